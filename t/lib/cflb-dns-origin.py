#!/usr/bin/python3
"""Authoritative test DNS responder for the "resolve" suite (t/216-resolve.t),
on dnspython: answers A and AAAA queries over UDP from a records file that
it reads again for every query, so that a test changes the answers by
rewriting the file.

  cflb-dns-origin.py --port P --records FILE [--log FILE]

The records file has one record a line:

  NAME TYPE TTL ADDRESS      e.g. "origin.cflb.test A 1 127.0.0.2"
  NAME SERVFAIL              the name answers SERVFAIL

A name without a line is NXDOMAIN; a name with records of another type
only answers NOERROR with no records.  Lines starting with "#" are
comments.  --log appends "NAME TYPE RCODE N" for each query answered.
"""

import argparse
import socket
import sys

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


def load(path):
    """the records: { name: [ (type, ttl, address) ] }, SERVFAIL as type"""
    recs = {}

    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return recs

    for line in lines:
        fields = line.split()

        if not fields or fields[0].startswith('#'):
            continue

        name = fields[0].lower().rstrip('.') + '.'

        if len(fields) >= 2 and fields[1].upper() == 'SERVFAIL':
            recs.setdefault(name, []).append(('SERVFAIL', 0, None))
            continue

        if len(fields) < 4:
            continue

        recs.setdefault(name, []).append((fields[1].upper(), int(fields[2]),
                                          fields[3]))

    return recs


def answer(query, recs):
    """the response to query from recs"""
    resp = dns.message.make_response(query)
    resp.flags |= dns.flags.AA
    resp.flags &= ~dns.flags.RA

    if not query.question:
        resp.set_rcode(dns.rcode.FORMERR)
        return resp

    q = query.question[0]
    name = q.name.to_text().lower()
    qtype = dns.rdatatype.to_text(q.rdtype)
    own = recs.get(name)

    if own is None:
        resp.set_rcode(dns.rcode.NXDOMAIN)
        return resp

    if any(r[0] == 'SERVFAIL' for r in own):
        resp.set_rcode(dns.rcode.SERVFAIL)
        return resp

    addrs = [r for r in own if r[0] == qtype]

    if addrs:
        ttl = min(r[1] for r in addrs)
        resp.answer.append(dns.rrset.from_text(q.name, ttl, 'IN', qtype,
                                               *[r[2] for r in addrs]))

    return resp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--records', required=True)
    ap.add_argument('--log')
    args = ap.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', args.port))

    # the caller waits for this line: the socket is bound
    print('ready', flush=True)

    while True:
        data, peer = sock.recvfrom(4096)

        try:
            query = dns.message.from_wire(data)
        except Exception:
            continue

        resp = answer(query, load(args.records))
        sock.sendto(resp.to_wire(), peer)

        if args.log and query.question:
            q = query.question[0]
            with open(args.log, 'a') as f:
                f.write('%s %s %s %d\n'
                        % (q.name.to_text(), dns.rdatatype.to_text(q.rdtype),
                           dns.rcode.to_text(resp.rcode()),
                           sum(len(r) for r in resp.answer)))


if __name__ == '__main__':
    sys.exit(main())
