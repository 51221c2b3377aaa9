# Convenience targets; the scripts in scripts/ do the work, and run
# without make (README: ./scripts/demo.sh, ./scripts/test.sh).

.PHONY: all build test unit demo stop bench clean

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

# end the demo, and what an interrupted test run left running
stop:
	scripts/demo.sh stop
	scripts/test.sh stop

bench: build
	bench/run.sh

# stopped first: their pid files are under build/ and t/
clean: stop
	rm -rf build t/servroot*
	$(MAKE) -C src/common/test clean
