#!/usr/bin/env python3
"""A grav peer written from docs/PROTOCOL.md alone, with plain pyzmq.

Usage: python_peer.py tcp://host:port

Joins the node whose ROUTER is at that endpoint, prints what happens
("joined", "got <type> <payload>", "replied"), answers every "req.*" message
with "rep.python" carrying "python:<payload>", and leaves with BYE after its
first reply (or after 20 s). Exit status 0 on success.
"""
import struct
import sys
import time
import uuid

import zmq

HELLO, WELCOME, REFUSE, READY, BYE, WHO, IAM = (
    b"\0HELLO", b"\0WELCOME", b"\0REFUSE", b"\0READY", b"\0BYE", b"\0WHO", b"\0IAM")


def say(line):
    print(line, flush=True)


def header(seq, origin, msg_id=b"\0" * 16, parent=b"\0" * 16, reply_to=b"\0" * 16, ts=0):
    # endianness 1, version 1, seq u64, id, parent_id, reply_to, timestamp i64, origin
    return struct.pack("<BBQ16s16s16sq16s", 1, 1, seq, msg_id, parent, reply_to, ts, origin)


def parse_header(b):
    if len(b) != 82 or b[0] != 1 or b[1] != 1:
        raise ValueError("bad header")
    _, _, seq, msg_id, parent, reply_to, ts, origin = struct.unpack("<BBQ16s16s16sq16s", b)
    return dict(seq=seq, id=msg_id, parent=parent, reply_to=reply_to, ts=ts, origin=origin)


def string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def strings(xs):
    return struct.pack("<Q", len(xs)) + b"".join(string(x) for x in xs)


def encode_hello(node, name, group, interests, endpoints):
    return struct.pack("<BH", 1, 1) + node.bytes + string(name) + string(group) + strings(interests) + strings(endpoints)


class Reader:
    def __init__(self, b):
        self.b, self.i = b, 0

    def take(self, n):
        if self.i + n > len(self.b):
            raise ValueError("short")
        out = self.b[self.i:self.i + n]
        self.i += n
        return out

    def u64(self):
        return struct.unpack("<Q", self.take(8))[0]

    def string(self):
        return self.take(self.u64()).decode()

    def strings(self):
        return [self.string() for _ in range(self.u64())]


def decode_hello(b):
    r = Reader(b)
    if r.take(1) != b"\x01":
        raise ValueError("big-endian not handled here")
    protocol = struct.unpack("<H", r.take(2))[0]
    if protocol != 1:
        raise ValueError("protocol %d" % protocol)
    node = uuid.UUID(bytes=bytes(r.take(16)))
    return dict(node=node, name=r.string(), group=r.string(), interests=r.strings(), endpoints=r.strings())


def main():
    target = sys.argv[1]
    me = uuid.uuid4()
    me_text = str(me).encode()
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    xpub = ctx.socket(zmq.XPUB)
    xpub.setsockopt(zmq.XPUB_VERBOSE, 1)
    router_port = router.bind_to_random_port("tcp://127.0.0.1")
    xpub_port = xpub.bind_to_random_port("tcp://127.0.0.1")
    dealer = ctx.socket(zmq.DEALER)
    dealer.setsockopt(zmq.ROUTING_ID, me_text)
    dealer.connect(target)
    my_hello = encode_hello(me, "python", "*", [],
                            ["tcp://127.0.0.1:%d" % router_port, "tcp://127.0.0.1:%d" % xpub_port])
    dealer.send_multipart([HELLO, header(0, me.bytes), my_hello])

    sub = None
    peer = None
    admitted = welcomed = got_ready = sent_ready = joined = False
    direct_seq = 0
    replied = False
    synced = set()  # node ids whose SUB proved itself at our XPUB
    poller = zmq.Poller()
    for s in (router, xpub, dealer):
        poller.register(s, zmq.POLLIN)
    deadline = time.time() + 20
    while time.time() < deadline and not replied:
        for sock, _ in poller.poll(100):
            if sock is router:
                rid, topic, _hdr, body = router.recv_multipart()
                if topic == HELLO:
                    peer = decode_hello(body)
                    router.send_multipart([rid, WELCOME, header(0, me.bytes), b""])
                    admitted = True
                    if sub is None:
                        sub = ctx.socket(zmq.SUB)
                        sub.connect(peer["endpoints"][1].replace("*", "127.0.0.1"))
                        sub.setsockopt(zmq.SUBSCRIBE, b"")
                        sub.setsockopt(zmq.SUBSCRIBE, BYE)
                        sub.setsockopt(zmq.SUBSCRIBE, b"\0SYNC" + me_text)
                        poller.register(sub, zmq.POLLIN)
                elif topic == READY:
                    got_ready = True
            elif sock is dealer:
                topic, _hdr, body = dealer.recv_multipart()
                if topic == WELCOME:
                    welcomed = True
                elif topic == REFUSE:
                    say("refused " + Reader(body[1:]).string())
                    return 1
            elif sock is xpub:
                event = xpub.recv()
                if event.startswith(b"\x01\0SYNC"):
                    synced.add(event[6:].decode())
            elif sock is sub:
                topic, hdr, payload = sub.recv_multipart()
                if topic.startswith(b"\0"):
                    continue
                h = parse_header(hdr)
                say("got %s %s" % (topic.decode(), payload.decode(errors="replace")))
                if topic.startswith(b"req."):
                    direct_seq += 1
                    reply = header(direct_seq, me.bytes, msg_id=uuid.uuid4().bytes, parent=h["id"],
                                   reply_to=h["id"], ts=time.time_ns())
                    dealer.send_multipart([b"rep.python", reply, b"python:" + payload])
                    say("replied")
                    replied = True
        # The SYNC subscription can arrive before the HELLO: remembered above.
        if peer is not None and not sent_ready and str(peer["node"]) in synced:
            dealer.send_multipart([READY, header(0, me.bytes), b""])
            sent_ready = True
        if not joined and admitted and welcomed and got_ready and sent_ready:
            joined = True
            say("joined %s" % peer["node"])
    if replied:
        time.sleep(0.2)
        xpub.send_multipart([BYE, header(0, me.bytes), b""])
        dealer.send_multipart([BYE, header(0, me.bytes), b""])
        time.sleep(0.2)
    for s in (router, xpub, dealer) + ((sub,) if sub else ()):
        s.close(linger=500)
    ctx.term()
    return 0 if replied else 1


if __name__ == "__main__":
    sys.exit(main())
