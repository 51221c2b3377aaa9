#!/usr/bin/env python3
#
# cflb_dns_interop.py DIR
#
# Reads the responses "cflb_dns_test -dump DIR" wrote with dnspython, an
# implementation that shares no code with ours, and checks what each must
# say: rcode (extended ones included), flags, the question as sent, the
# records with their names decompressed, the OPT record and the client
# subnet echo.  The last line is "cflb_dns_interop: N passed, M failed".

import os
import sys

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL %s %s" % (what, detail))


def load(d, name):
    with open(os.path.join(d, name + ".bin"), "rb") as f:
        wire = f.read()
    # the TC responses must parse too: dnspython then keeps what is there
    return dns.message.from_wire(wire, raise_on_truncation=False), wire


def flags_of(m):
    return {f for f in ("QR", "AA", "TC", "RD", "RA", "AD", "CD")
            if m.flags & getattr(dns.flags, f)}


def rrs(section, rdtype):
    return [r for rrset in section if rrset.rdtype == rdtype for r in rrset]


def owners(section):
    return [rrset.name.to_text() for rrset in section]


def ecs_of(m):
    return [o for o in (m.options or []) if o.otype == dns.edns.ECS]


def main():
    d = sys.argv[1]
    c = Checks()

    m, wire = load(d, "dig_a3_ecs")
    c.check("dig: rcode", m.rcode() == dns.rcode.NOERROR)
    c.check("dig: flags", flags_of(m) == {"QR", "AA", "RD"}, flags_of(m))
    c.check("dig: qname case", m.question[0].name.to_text()
            == "wWw.ExAmple.COM.")
    addrs = [r.address for r in rrs(m.answer, dns.rdatatype.A)]
    c.check("dig: answers", addrs == ["192.0.2.1", "192.0.2.2",
                                      "192.0.2.3"], addrs)
    c.check("dig: ttl", m.answer[0].ttl == 30)
    c.check("dig: edns", m.edns == 0 and m.payload == 1232)
    e = ecs_of(m)
    c.check("dig: ecs", len(e) == 1 and e[0].address == "192.0.2.0"
            and e[0].srclen == 24 and e[0].scopelen == 24,
            e and e[0].to_text())

    m, wire = load(d, "kdig_aaaa_ecs6_do")
    c.check("kdig: aaaa", [r.address for r in rrs(m.answer, 28)]
            == ["2001:db8::1"])
    c.check("kdig: DO", m.ednsflags & dns.flags.DO)
    e = ecs_of(m)
    c.check("kdig: ecs6", len(e) == 1 and e[0].srclen == 56
            and e[0].scopelen == 48 and e[0].address == "2001:db8:1234:5600::",
            e and e[0].to_text())

    for name, rcode in (("nodata_soa", dns.rcode.NOERROR),
                        ("nxdomain_soa", dns.rcode.NXDOMAIN)):
        m, wire = load(d, name)
        c.check(name + ": rcode", m.rcode() == rcode, m.rcode())
        c.check(name + ": no answer", len(m.answer) == 0)
        soa = rrs(m.authority, dns.rdatatype.SOA)
        c.check(name + ": soa", len(soa) == 1
                and m.authority[0].name.to_text() == "example.com."
                and soa[0].mname.to_text() == "ns1.example.com."
                and soa[0].rname.to_text() == "hostmaster.example.com."
                and soa[0].serial == 2024010101 and soa[0].refresh == 7200
                and soa[0].retry == 900 and soa[0].expire == 1209600
                and soa[0].minimum == 300 and m.authority[0].ttl == 300,
                soa and soa[0].to_text())
        c.check(name + ": AA", "AA" in flags_of(m))

    m, wire = load(d, "nodata_soa")
    c.check("nodata: no edns", m.edns == -1)
    c.check("nodata: compressed", len(wire) == 84, len(wire))

    m, wire = load(d, "refused")
    c.check("refused", m.rcode() == dns.rcode.REFUSED
            and "AA" not in flags_of(m) and m.edns == 0
            and not m.answer and not m.authority)

    m, wire = load(d, "apex_ns")
    ns = [r.target.to_text() for r in rrs(m.answer, dns.rdatatype.NS)]
    c.check("apex ns", ns == ["ns1.example.com.", "ns2.example.com."], ns)
    c.check("apex ns owner", owners(m.answer) == ["example.com."])

    m, wire = load(d, "apex_soa")
    c.check("apex soa", len(rrs(m.answer, dns.rdatatype.SOA)) == 1
            and len(rrs(m.authority, dns.rdatatype.NS)) == 1)

    m, wire = load(d, "cname_in_zone")
    cn = rrs(m.answer, dns.rdatatype.CNAME)
    a = m.find_rrset(m.answer, dns.name.from_text("origin.example.com."),
                     dns.rdataclass.IN, dns.rdatatype.A)
    c.check("cname in zone", len(cn) == 1
            and cn[0].target.to_text().lower() == "origin.example.com."
            and sorted(r.address for r in a) == ["192.0.2.1", "192.0.2.2"])

    m, wire = load(d, "cname_outside")
    cn = rrs(m.answer, dns.rdatatype.CNAME)
    c.check("cname outside", len(cn) == 1
            and cn[0].target.to_text() == "cdn.provider.net."
            and owners(m.answer) == ["www.example.com.",
                                     "cdn.provider.net."])

    m, wire = load(d, "formerr_qd0")
    c.check("formerr qd0", m.rcode() == dns.rcode.FORMERR
            and len(m.question) == 0 and m.edns == 0)

    m, wire = load(d, "formerr_two_opt")
    c.check("formerr two opt", m.rcode() == dns.rcode.FORMERR
            and m.edns == -1 and len(m.question) == 1)

    m, wire = load(d, "formerr_ecs_bits")
    c.check("formerr ecs", m.rcode() == dns.rcode.FORMERR
            and m.edns == 0 and not ecs_of(m))

    m, wire = load(d, "badvers")
    c.check("badvers", m.rcode() == dns.rcode.BADVERS and m.edns == 0
            and m.ednsflags & dns.flags.DO and m.payload == 1232,
            (m.rcode(), m.edns))

    for name, addr, src in (("ecs4_24", "192.0.2.0", 24),
                            ("ecs6_56", "2001:db8:1234:5600::", 56),
                            ("ecs4_0", "0.0.0.0", 0)):
        m, wire = load(d, name)
        e = ecs_of(m)
        c.check(name, len(e) == 1 and e[0].address == addr
                and e[0].srclen == src
                and e[0].scopelen == (20 if src else 0),
                e and e[0].to_text())

    for name, opt, ecs in (("tc_512", False, False),
                           ("tc_1232", True, False),
                           ("tc_1232_ecs", True, True)):
        m, wire = load(d, name)
        c.check(name, "TC" in flags_of(m) and not m.answer
                and len(m.question) == 1 and (m.edns == 0) == opt
                and bool(ecs_of(m)) == ecs, flags_of(m))

    m, wire = load(d, "case_0x20")
    c.check("0x20 question", m.question[0].name.to_text()
            == "WwW.eXaMpLe.CoM.")
    c.check("0x20 flags", flags_of(m) == {"QR", "RD", "CD"}, flags_of(m))
    c.check("0x20 soa owner", m.authority[0].name
            == dns.name.from_text("example.com."))

    m, wire = load(d, "name_255")
    q = m.question[0].name
    c.check("name 255", len(q.to_wire()) == 255
            and m.answer[0].name == q
            and rrs(m.answer, dns.rdatatype.CNAME)[0].target == q)

    # dnspython writes what it read back to the same message
    for f in sorted(os.listdir(d)):
        m, wire = load(d, f[:-4])
        again = dns.message.from_wire(m.to_wire(), raise_on_truncation=False)
        c.check("round trip " + f, again == m)

    print("cflb_dns_interop: %d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
