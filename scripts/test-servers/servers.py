#!/usr/bin/env python3
"""Small helpers for scripts/test-servers.sh (no third-party imports except in
the s3-* commands, which need boto3 from the moto venv).

  servers.py free-ports N                 print N free TCP ports on 127.0.0.1
  servers.py cluster-id                   print a random Kafka cluster id
  servers.py secret N                     print N random alphanumeric characters
  servers.py kafka-ready HOST:PORT T      wait up to T s until the broker answers
                                          a Metadata request listing >= 1 broker
  servers.py kafka-create-topic HOST:PORT TOPIC PARTITIONS
                                          create a topic (already existing is fine)
  servers.py http-ready URL T             wait up to T s for an HTTP status < 500
  servers.py s3-create-bucket ENDPOINT ACCESS SECRET REGION BUCKET

Exit status 0 on success; a one-line reason on stderr otherwise.
The Kafka commands speak the wire protocol directly (Metadata v4,
CreateTopics v2: both supported by Kafka 2.x to 4.x).
"""
import base64
import os
import secrets
import socket
import string
import struct
import sys
import time
import urllib.error
import urllib.request


def free_ports(n):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        print(" ".join(str(s.getsockname()[1]) for s in socks))
    finally:
        for s in socks:
            s.close()


def cluster_id():
    # Kafka's own Uuid.randomUuid() never starts with '-' (it would read as an
    # option on a command line); do the same.
    while True:
        cid = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        if not cid.startswith("-"):
            print(cid)
            return


def secret(n):
    alphabet = string.ascii_letters + string.digits
    print("".join(secrets.choice(alphabet) for _ in range(n)))


# ---------------------------------------------------------------- Kafka wire --

def _str(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


class _Reader:
    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def take(self, fmt):
        size = struct.calcsize(fmt)
        v = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return v[0] if len(v) == 1 else v

    def string(self):
        n = self.take(">h")
        if n < 0:
            return None
        s = self.buf[self.pos:self.pos + n].decode()
        self.pos += n
        return s


def _request(addr, api_key, api_version, body, timeout):
    host, port = addr.rsplit(":", 1)
    header = struct.pack(">hhi", api_key, api_version, 1) + _str("spotify-etl-test-servers")
    msg = header + body
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.settimeout(timeout)
        s.sendall(struct.pack(">i", len(msg)) + msg)
        size = b""
        while len(size) < 4:
            chunk = s.recv(4 - len(size))
            if not chunk:
                raise ConnectionError("connection closed by broker")
            size += chunk
        (n,) = struct.unpack(">i", size)
        data = b""
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                raise ConnectionError("connection closed by broker")
            data += chunk
    r = _Reader(data)
    r.take(">i")  # correlation id
    return r


def _metadata_brokers(addr, timeout):
    # Metadata v4: topics = null (all), allow_auto_topic_creation = false
    r = _request(addr, 3, 4, struct.pack(">i?", -1, False), timeout)
    r.take(">i")  # throttle
    brokers = []
    for _ in range(r.take(">i")):
        node = r.take(">i")
        host = r.string()
        port = r.take(">i")
        r.string()  # rack
        brokers.append((node, host, port))
    return brokers


def kafka_ready(addr, limit):
    deadline = time.monotonic() + float(limit)
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            brokers = _metadata_brokers(addr, 3)
            if brokers:
                return 0
            last = "metadata lists no broker yet"
        except (OSError, struct.error, ConnectionError) as e:
            last = str(e) or type(e).__name__
        time.sleep(0.25)
    print(f"kafka at {addr} not ready after {limit}s: {last}", file=sys.stderr)
    return 1


def kafka_create_topic(addr, topic, partitions):
    # CreateTopics v2
    body = struct.pack(">i", 1) + _str(topic) + struct.pack(">ihii", int(partitions), 1, 0, 0)
    body += struct.pack(">i?", 15000, False)
    last = ""
    for _ in range(40):
        try:
            r = _request(addr, 19, 2, body, 20)
            r.take(">i")  # throttle
            errors = []
            for _ in range(r.take(">i")):
                name = r.string()
                code = r.take(">h")
                message = r.string()
                errors.append((name, code, message))
            code = errors[0][1] if errors else -1
            if code in (0, 36):  # none, TOPIC_ALREADY_EXISTS
                return 0
            last = f"error code {code}: {errors[0][2] if errors else 'empty response'}"
            if code not in (7, 41, 5, 15, 51):  # timeout, not controller, leader n/a, coordinator n/a, concurrent
                break
        except (OSError, struct.error, ConnectionError) as e:
            last = str(e) or type(e).__name__
        time.sleep(0.5)
    print(f"could not create topic {topic} on {addr}: {last}", file=sys.stderr)
    return 1


# ---------------------------------------------------------------------- HTTP --

def http_ready(url, limit):
    deadline = time.monotonic() + float(limit)
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=3) as resp:
                if resp.status < 500:
                    return 0
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as e:
            if e.code < 500:
                return 0
            last = f"HTTP {e.code}"
        except (OSError, ValueError) as e:
            last = str(e) or type(e).__name__
        time.sleep(0.25)
    print(f"{url} not ready after {limit}s: {last}", file=sys.stderr)
    return 1


def s3_create_bucket(endpoint, access, secret_key, region, bucket):
    import boto3
    from botocore.config import Config

    s3 = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=access,
        aws_secret_access_key=secret_key, region_name=region,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                      retries={"max_attempts": 10, "mode": "standard"}))
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    s3.head_bucket(Bucket=bucket)
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    commands = {
        "free-ports": lambda: free_ports(int(args[0])),
        "cluster-id": cluster_id,
        "secret": lambda: secret(int(args[0])),
        "kafka-ready": lambda: kafka_ready(args[0], args[1]),
        "kafka-create-topic": lambda: kafka_create_topic(*args[:3]),
        "http-ready": lambda: http_ready(args[0], args[1]),
        "s3-create-bucket": lambda: s3_create_bucket(*args[:5]),
    }
    if cmd not in commands:
        print(f"unknown command {cmd}\n{__doc__}", file=sys.stderr)
        return 2
    return commands[cmd]() or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
