# Convenience targets; the scripts in scripts/ do the work.

.PHONY: all build test unit demo bench clean

all: build

build:
	scripts/deps.sh
	scripts/build.sh

test:
	scripts/test.sh

unit:
	$(MAKE) -C src/common/test test

demo:
	scripts/demo.sh

bench: build
	bench/run.sh

clean:
	rm -rf build t/servroot*
	$(MAKE) -C src/common/test clean
