#!/usr/bin/python3
"""DNS client for the cflb DNS-only tests (t/80x-dns*.t), on dnspython.

  cflb-dns.py query NAME TYPE [options]     one query, the response shown
  cflb-dns.py tally NAME TYPE N [options]   N queries: "answer count" lines
  cflb-dns.py raw HEX [options]             crafted bytes, the response
  cflb-dns.py pair [options]                two queries on one TCP
                                            connection, sent split
  cflb-dns.py craft CASE [options]          a malformed or unusual query
                                            (CASES below), the response
  cflb-dns.py garbage N SEED [options]      N random and mangled packets,
                                            then a good query: its answer
  cflb-dns.py flood NAME N [options]        N queries on one TCP
                                            connection, written before any
                                            answer is read: the answers'
                                            ids in order, and their sizes

Options: --port P (1953), --server A (127.0.0.1), --src A (the address to
send from: any of 127/8), --tcp, --ecs ADDR/LEN, --edns SIZE (0: none),
--payload N (the EDNS UDP size announced), --each K (tally: a new source
address every K queries, 127.0.1.x), --ecs-each K (tally: a new /24
subnet every K queries).

A response is shown as lines a test can compare exactly:

  NOERROR qr aa
  ANSWER www.example.com. 30 IN A 192.0.2.10
  AUTHORITY example.com. 30 IN SOA ns1.example.com. ... <serial> ...
  EDNS 1232 ECS 192.0.2.0/24/0

Records of a section are sorted, SOA serials masked (they come from the
clock), and "(none)" stands for no response within 2 seconds.
"""

import argparse
import socket
import struct
import sys
import time

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdatatype


def build(args, name, rtype, qid=None):
    """A query message as dnspython makes it, with EDNS and ECS."""
    q = dns.message.make_query(name, rtype, want_dnssec=False)
    q.flags &= ~dns.flags.RD
    if qid is not None:
        q.id = qid
    options = []
    if args.ecs:
        addr, _, plen = args.ecs.partition('/')
        options.append(dns.edns.ECSOption(addr, int(plen), 0))
    if args.edns or options:
        q.use_edns(0, payload=args.payload or args.edns or 1232,
                   options=options)
    else:
        q.use_edns(False)
    return q


def exchange(args, wire, src=None, tcp=False):
    """Bytes of the response to wire, or None after 2 seconds."""
    family = socket.AF_INET
    if tcp:
        s = socket.socket(family, socket.SOCK_STREAM)
    else:
        s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(2)
    try:
        if src:
            s.bind((src, 0))
        if tcp:
            s.connect((args.server, args.port))
            s.sendall(struct.pack('!H', len(wire)) + wire)
            head = recv_exact(s, 2)
            if head is None:
                return None
            return recv_exact(s, struct.unpack('!H', head)[0])
        s.sendto(wire, (args.server, args.port))
        data, _ = s.recvfrom(65535)
        return data
    except (socket.timeout, ConnectionError):
        return None
    finally:
        s.close()


def recv_exact(s, n):
    buf = b''
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def show(data):
    """The response as comparable lines."""
    if data is None:
        return '(none)'
    try:
        m = dns.message.from_wire(data, ignore_trailing=False)
    except Exception as e:               # noqa: BLE001 - shown to the test
        return 'unparsable: %s (%d bytes)' % (type(e).__name__, len(data))
    flags = [f.lower() for f in dns.flags.to_text(m.flags).split()
             if f in ('QR', 'AA', 'TC', 'RD', 'RA', 'CD', 'AD')]
    lines = ['%s %s' % (dns.rcode.to_text(m.rcode()), ' '.join(flags))]
    if m.opcode() != dns.opcode.QUERY:
        lines[0] += ' opcode=%s' % dns.opcode.to_text(m.opcode())
    if not m.question:
        lines.append('NOQUESTION')
    for title, section in (('ANSWER', m.answer), ('AUTHORITY', m.authority),
                           ('ADDITIONAL', m.additional)):
        rrs = []
        for rrset in section:
            for rd in rrset:
                text = rd.to_text()
                if rrset.rdtype == dns.rdatatype.SOA:
                    f = text.split()
                    f[2] = '<serial>'
                    text = ' '.join(f)
                rrs.append('%s %s %d IN %s %s' % (
                    title, rrset.name.to_text(), rrset.ttl,
                    dns.rdatatype.to_text(rrset.rdtype), text))
        lines.extend(sorted(rrs))
    if m.edns >= 0:
        opt = 'EDNS %d' % m.payload
        if m.ednsflags & dns.flags.DO:
            opt += ' DO'
        for o in m.options:
            if isinstance(o, dns.edns.ECSOption):
                opt += ' ECS %s/%d/%d' % (o.address, o.srclen, o.scopelen)
            else:
                opt += ' OPTION %d' % o.otype
        lines.append(opt)
    return '\n'.join(lines)


def addresses(data):
    """The answer's data, sorted and comma-joined, or the rcode."""
    if data is None:
        return '(none)'
    m = dns.message.from_wire(data)
    got = sorted(rd.to_text() for rrset in m.answer for rd in rrset)
    if m.flags & dns.flags.TC:
        return 'TC'
    return ','.join(got) if got else dns.rcode.to_text(m.rcode())


def header(qid, flags, qd, an, ns, ar):
    return struct.pack('!HHHHHH', qid, flags, qd, an, ns, ar)


def question(name='www.example.com', qtype=1, qclass=1):
    return dns.name.from_text(name).to_wire() + struct.pack('!HH', qtype,
                                                             qclass)


def opt(options=b'', version=0, payload=1232, do=False):
    ttl = (version << 16) | (0x8000 if do else 0)
    return b'\x00' + struct.pack('!HHIH', 41, payload, ttl,
                                 len(options)) + options


def ecs(family, source, addr, scope=0):
    body = struct.pack('!HBB', family, source, scope) + addr
    return struct.pack('!HH', 8, len(body)) + body


# name: (what it is, the query's bytes)
CASES = {
    'qdcount0': ('no question', header(1, 0, 0, 0, 0, 0)),
    'qdcount2': ('two questions', header(2, 0, 2, 0, 0, 0) + question()
                 + question('example.com', 6)),
    'truncated': ('a question cut short',
                  (header(3, 0, 1, 0, 0, 0) + question())[:20]),
    'short': ('shorter than a header', b'\x00\x04\x00'),
    'response': ('a response (QR set)', header(5, 0x8000, 1, 0, 0, 0)
                 + question()),
    'notify': ('opcode NOTIFY', header(6, 4 << 11, 1, 0, 0, 0)
               + question('example.com', 6)),
    'update': ('opcode UPDATE', header(7, 5 << 11, 1, 0, 0, 0)
               + question('example.com', 6)),
    'axfr': ('a zone transfer', header(8, 0, 1, 0, 0, 0)
             + question('example.com', 252)),
    'badvers': ('EDNS version 1', header(9, 0, 1, 0, 0, 1) + question()
                + opt(version=1)),
    'ecs_family': ('ECS family 3', header(10, 0, 1, 0, 0, 1) + question()
                   + opt(ecs(3, 24, b'\xc0\x00\x02'))),
    'ecs_bits': ('ECS address bits past the prefix', header(11, 0, 1, 0, 0, 1)
                 + question() + opt(ecs(1, 24, b'\xc0\x00\x02\x05'))),
    'ecs_long': ('ECS /33 for IPv4', header(12, 0, 1, 0, 0, 1) + question()
                 + opt(ecs(1, 33, b'\xc0\x00\x02\x05\x00'))),
    'ecs_v6': ('ECS 2001:db8:1234::/48', header(13, 0, 1, 0, 0, 1)
               + question()
               + opt(ecs(2, 48, b'\x20\x01\x0d\xb8\x12\x34'))),
    'ecs_zero': ('ECS /0: no subnet to use', header(14, 0, 1, 0, 0, 1)
                 + question() + opt(ecs(1, 0, b''))),
    'two_opt': ('two OPT records', header(15, 0, 1, 0, 0, 2) + question()
                + opt() + opt()),
    'flags': ('RD, CD and DO: copied; RA and AD never set',
              header(16, 0x0110 | 0x0020, 1, 0, 0, 1) + question()
              + opt(do=True)),
    'case': ('0x20 mixed case', header(17, 0, 1, 0, 0, 0)
             + question('wWw.ExAmPlE.cOm')),
    'chaos': ('class CH', header(18, 0, 1, 0, 0, 0)
              + question('www.example.com', 1, 3)),
    'trailing': ('bytes after the message', header(19, 0, 1, 0, 0, 0)
                 + question() + b'\x00\x00'),
    'pointer': ('a compression pointer in the question',
                header(20, 0, 1, 0, 0, 0) + b'\x03www\xc0\x0c'
                + struct.pack('!HH', 1, 1)),
}


def cmd_craft(args):
    what, wire = CASES[args.case]
    print(show(exchange(args, wire, args.src, args.tcp)))


def cmd_garbage(args):
    """Random bytes, and good queries with bytes flipped, cut or grown,
    as datagrams (with --tcp: as TCP messages whose length prefix may lie,
    50 to a connection); then one good query, whose answer is printed:
    the responder lived."""
    import random
    rnd = random.Random(args.seed)
    good = [w for _, w in CASES.values()]
    good.append(build(args, 'www.example.com', 'A').to_wire())
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    conn = None
    for i in range(args.n):
        kind = rnd.randrange(4)
        w = bytearray(rnd.choice(good))
        if kind == 0:
            w = bytearray(rnd.getrandbits(8)
                          for _ in range(rnd.randrange(1, 600)))
        elif kind == 1:
            for _ in range(rnd.randrange(1, 8)):
                w[rnd.randrange(len(w))] = rnd.getrandbits(8)
        elif kind == 2:
            w = w[:rnd.randrange(len(w))]
        else:
            w += bytes(rnd.getrandbits(8)
                       for _ in range(rnd.randrange(1, 40)))
        if len(w) > 2:
            w[2] &= 0x7f       # a query, most of the time answered
        if not args.tcp:
            s.sendto(bytes(w), (args.server, args.port))
            continue
        if i % 50 == 0:
            if conn:
                conn.close()
            conn = socket.create_connection((args.server, args.port))
        n = len(w) if rnd.randrange(4) else rnd.randrange(65536)
        try:
            conn.sendall(struct.pack('!H', n) + bytes(w))
        except OSError:
            conn.close()
            conn = socket.create_connection((args.server, args.port))
    if conn:
        conn.close()
    s.close()
    # the socket's buffer may have overflowed: a query may be lost, once
    q = build(args, 'www.example.com', 'A')
    for _ in range(3):
        time.sleep(0.5)
        data = exchange(args, q.to_wire(), args.src, args.tcp)
        if data is not None:
            break
    print(show(data))


def cmd_flood(args):
    """N pipelined queries the client does not read for a second, so the
    server's socket buffer fills and answers wait in the server."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # a small receive buffer, fixed (no autotuning): the answers back up
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    s.settimeout(10)
    s.connect((args.server, args.port))
    data = b''
    for i in range(args.n):
        w = build(args, args.name, 'A', i + 1).to_wire()
        data += struct.pack('!H', len(w)) + w
    s.sendall(data)
    time.sleep(1)
    ids, sizes = [], set()
    try:
        for _ in range(args.n):
            head = recv_exact(s, 2)
            if head is None:
                break
            msg = recv_exact(s, struct.unpack('!H', head)[0])
            ids.append(struct.unpack('!H', msg[:2])[0])
            sizes.add(len(msg))
    finally:
        s.close()
    ok = ids == list(range(1, args.n + 1))
    print('%d answers, %s, sizes %s' % (len(ids), 'in order' if ok
                                        else 'OUT OF ORDER',
                                        ','.join(map(str, sorted(sizes)))))


def cmd_query(args):
    q = build(args, args.name, args.type)
    print(show(exchange(args, q.to_wire(), args.src, args.tcp)))


def cmd_tally(args):
    tally = {}
    for i in range(args.n):
        src = args.src
        if args.each:
            src = '127.0.1.%d' % (1 + (i // args.each) % 250)
        if args.ecs_each:
            k = i // args.ecs_each
            args.ecs = '10.%d.%d.0/24' % (k // 250, k % 250)
        q = build(args, args.name, args.type)
        key = addresses(exchange(args, q.to_wire(), src, args.tcp))
        if args.each or args.ecs_each:
            key = '%s %s' % (args.ecs if args.ecs_each else src, key)
        tally[key] = tally.get(key, 0) + 1
    if args.each or args.ecs_each:
        # per client: the distinct answers it saw
        seen = {}
        for key in tally:
            who, answer = key.split(' ', 1)
            seen.setdefault(who, set()).add(answer)
        moved = sum(1 for s in seen.values() if len(s) > 1)
        answers = {}
        for s in seen.values():
            for a in s:
                answers[a] = answers.get(a, 0) + 1
        print('clients %d moved %d' % (len(seen), moved))
        for a in sorted(answers):
            print('%s %d' % (a, answers[a]))
        return
    for key in sorted(tally):
        print('%s %d' % (key, tally[key]))


def cmd_raw(args):
    print(show(exchange(args, bytes.fromhex(args.hex), args.src, args.tcp)))


def cmd_pair(args):
    """Two queries pipelined on one TCP connection, the bytes split at
    odd places; both answers shown, in the order they came."""
    w1 = build(args, 'www.example.com', 'A', 1).to_wire()
    w2 = build(args, 'example.com', 'SOA', 2).to_wire()
    stream = struct.pack('!H', len(w1)) + w1 + struct.pack('!H', len(w2)) + w2
    s = socket.create_connection((args.server, args.port), timeout=2)
    try:
        for cut in (1, 7, len(w1) + 3, len(stream)):
            s.sendall(stream[:cut])
            stream = stream[cut:]
        out = []
        for _ in range(2):
            head = recv_exact(s, 2)
            if head is None:
                out.append('(none)')
                break
            data = recv_exact(s, struct.unpack('!H', head)[0])
            out.append('id %d: %s' % (struct.unpack('!H', data[:2])[0],
                                      show(data)))
        print('\n'.join(out))
    finally:
        s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument('cmd', choices=('query', 'tally', 'raw', 'pair', 'craft',
                                   'garbage', 'flood'))
    p.add_argument('rest', nargs='*')
    p.add_argument('--port', type=int, default=1953)
    p.add_argument('--server', default='127.0.0.1')
    p.add_argument('--src')
    p.add_argument('--tcp', action='store_true')
    p.add_argument('--ecs')
    p.add_argument('--edns', type=int, default=0)
    p.add_argument('--payload', type=int, default=0)
    p.add_argument('--each', type=int, default=0)
    p.add_argument('--ecs-each', type=int, default=0)
    args = p.parse_args()

    if args.cmd == 'query':
        args.name, args.type = args.rest
        cmd_query(args)
    elif args.cmd == 'tally':
        args.name, args.type, n = args.rest
        args.n = int(n)
        cmd_tally(args)
    elif args.cmd == 'raw':
        args.hex = ''.join(args.rest)
        cmd_raw(args)
    elif args.cmd == 'craft':
        args.case, = args.rest
        cmd_craft(args)
    elif args.cmd == 'flood':
        args.name, args.n = args.rest[0], int(args.rest[1])
        cmd_flood(args)
    elif args.cmd == 'garbage':
        args.n, args.seed = int(args.rest[0]), int(args.rest[1])
        cmd_garbage(args)
    else:
        cmd_pair(args)


if __name__ == '__main__':
    sys.exit(main())
