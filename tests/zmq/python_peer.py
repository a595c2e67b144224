#!/usr/bin/env python3
"""A grav peer written from docs/PROTOCOL.md alone, with plain pyzmq.

Usage: python_peer.py tcp://host:port [--batch]

Joins the node whose ROUTER is at that endpoint, prints what happens
("joined", "got <type> <payload>", "replied"), answers every "req.*" message
with "rep.python" carrying "python:<payload>", and leaves with BYE after its
first reply (or after 20 s). Exit status 0 on success.

With --batch it first sends a malformed data frame (it claims two records and
holds one), which the node must reject whole, then answers with one data
frame of two records: the reply "python:<payload>", then a plain (not a
reply) "rep.python" message "python:again".
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
    # Control messages: endianness 1, header version 1, seq u64, id, parent_id,
    # reply_to, timestamp i64, origin
    return struct.pack("<BBQ16s16s16sq16s", 1, 1, seq, msg_id, parent, reply_to, ts, origin)


RECORD = "<Q16s16s16sq16sI"  # seq, id, parent_id, reply_to, timestamp, origin, payload size


def record(seq, origin, payload, msg_id=b"\0" * 16, parent=b"\0" * 16, reply_to=b"\0" * 16, ts=0):
    return struct.pack(RECORD, seq, msg_id, parent, reply_to, ts, origin, len(payload)) + payload


def data_frame(records, count=None):
    # endianness 1, header version 2, u32 count, then the records
    return struct.pack("<BBI", 1, 2, len(records) if count is None else count) + b"".join(records)


def parse_data_frame(b):
    if len(b) < 6 or b[0] != 1 or b[1] != 2:
        raise ValueError("bad data frame")
    (count,) = struct.unpack_from("<I", b, 2)
    at, out = 6, []
    for _ in range(count):
        seq, msg_id, parent, reply_to, ts, origin, size = struct.unpack_from(RECORD, b, at)
        at += struct.calcsize(RECORD)
        if at + size > len(b):
            raise ValueError("short record")
        out.append(dict(seq=seq, id=msg_id, parent=parent, reply_to=reply_to, ts=ts, origin=origin,
                        payload=b[at:at + size]))
        at += size
    if at != len(b):
        raise ValueError("trailing bytes")
    return out


def string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def strings(xs):
    return struct.pack("<Q", len(xs)) + b"".join(string(x) for x in xs)


def encode_hello(node, name, group, interests, endpoints):
    return struct.pack("<BH", 1, 2) + node.bytes + string(name) + string(group) + strings(interests) + strings(endpoints)


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
    if protocol != 2:
        raise ValueError("protocol %d" % protocol)
    node = uuid.UUID(bytes=bytes(r.take(16)))
    return dict(node=node, name=r.string(), group=r.string(), interests=r.strings(), endpoints=r.strings())


def main():
    target = sys.argv[1]
    batch = "--batch" in sys.argv[2:]
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
                frames = router.recv_multipart()
                if len(frames) != 4:  # [routing id][type][data frame]: no direct data expected here
                    continue
                rid, topic, _hdr, body = frames
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
                frames = sub.recv_multipart()
                if frames[0].startswith(b"\0"):
                    continue
                topic, body = frames
                for r in parse_data_frame(body):
                    payload = r["payload"]
                    say("got %s %s" % (topic.decode(), payload.decode(errors="replace")))
                    if not topic.startswith(b"req.") or replied:
                        continue
                    answer = [b"python:" + payload] + ([b"python:again"] if batch else [])
                    records = []
                    for text in answer:
                        direct_seq += 1
                        # Only the first record answers the request; the second is a plain message.
                        answers = r["id"] if not records else b"\0" * 16
                        records.append(record(direct_seq, me.bytes, text, msg_id=uuid.uuid4().bytes,
                                              parent=r["id"], reply_to=answers, ts=time.time_ns()))
                    if batch:
                        dealer.send_multipart([b"rep.python", data_frame(records[:1], count=2)])
                        say("sent junk")
                    dealer.send_multipart([b"rep.python", data_frame(records)])
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
