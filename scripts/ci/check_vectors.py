#!/usr/bin/env python3
"""Independent decoder of docs/FORMAT.md (Python `cryptography`): opens every vector in
tests/vectors/vectors.json by the specification alone and checks the expected result."""
import base64, hashlib, hmac, json, struct, sys
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class Fail(Exception):
    def __init__(self, name, chunk=None):
        super().__init__(name)
        self.name, self.chunk = name, chunk


def expand(prk, info, n):
    return HKDFExpand(algorithm=hashes.SHA256(), length=n, info=info).derive(prk)


def open_v2(key, d):
    if d[:7] != b"MDLSEAL":
        raise Fail("not_sealed")
    if len(d) < 8:
        raise Fail("truncated")
    if d[7] != 2:
        raise Fail("unsupported_version")
    if len(d) < 70:
        raise Fail("truncated")
    kind, cipher, log2, reserved = d[8], d[9], d[10], d[11]
    (length,) = struct.unpack("<Q", d[12:20])
    salt, n = d[36:68], struct.unpack("<H", d[68:70])[0]
    if kind not in (1, 2) or cipher != 1 or not 12 <= log2 <= 24 or reserved != 0 or not 1 <= n <= 4096:
        raise Fail("header_corrupted")
    c = 1 << log2
    chunks = max(1, -(-length // c))
    if length > 1 << 62 or chunks > 1 << 32:
        raise Fail("header_corrupted")
    h = 134 + n
    if len(d) < h:
        raise Fail("truncated")
    name = d[70:70 + n]
    commitment, mac = d[70 + n:102 + n], d[102 + n:h]
    prk = hmac.new(salt, key, hashlib.sha256).digest()  # HKDF-Extract
    if not hmac.compare_digest(expand(prk, b"modelseal v2 key commitment", 32), commitment):
        raise Fail("wrong_key")
    mac_key = expand(prk, b"modelseal v2 header mac", 32)
    if not hmac.compare_digest(hmac.new(mac_key, d[:102 + n], hashlib.sha256).digest(), mac):
        raise Fail("header_corrupted")
    aead_key = expand(prk, b"modelseal v2 aead key" + bytes([kind]) + name, 32)
    prefix = expand(prk, b"modelseal v2 nonce prefix" + bytes([kind]) + name, 7)
    expected = h + length + 16 * chunks
    if len(d) < expected:
        raise Fail("truncated")
    if len(d) > expected:
        raise Fail("extended")
    aes, out, off = AESGCM(aead_key), bytearray(), h
    for i in range(chunks):
        m = min(c, length - i * c)
        nonce = prefix + struct.pack(">I", i) + bytes([1 if i == chunks - 1 else 0])
        try:
            out += aes.decrypt(nonce, d[off:off + m + 16], mac)
        except Exception:
            raise Fail("chunk_corrupted", i)
        off += m + 16
    return bytes(out)


def open_v1(key, d):
    if d.startswith(b"UEFERExF"):
        d = base64.b64decode(b"".join(d.split()))
    if not d.startswith(b"PADDLE"):
        raise Fail("not_sealed")
    if d[6:7] != b"1":
        raise Fail("unsupported_version")
    if len(d) < 151:
        raise Fail("truncated")
    if not hmac.compare_digest(d[7:71], hashlib.sha256(key).hexdigest().encode()):
        raise Fail("wrong_key")
    body, tag = d[135:-16], d[-16:]
    dec = Cipher(algorithms.AES(key), modes.GCM(key[16:32], tag)).decryptor()
    try:
        return dec.update(body) + dec.finalize()
    except Exception:
        raise Fail("chunk_corrupted", 0)


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/vectors")
    index = json.loads((root / "vectors.json").read_text())
    bad = 0
    for v in index["vectors"]:
        d, key = (root / v["file"]).read_bytes(), base64.b64decode(v["key"])
        try:
            if d.startswith(b"MDLSEAL"):
                got = ("ok", open_v2(key, d))
            elif d.startswith(b"PADDLE") or d.startswith(b"UEFERExF"):
                got = ("ok", open_v1(key, d))
            else:
                raise Fail("not_sealed")
        except Fail as f:
            got = (f.name, f.chunk)
        want = v["expect"]
        if want == "ok":
            good = got[0] == "ok" and len(got[1]) == v["size"] and hashlib.sha256(got[1]).hexdigest() == v["sha256"]
        else:
            good = got[0] == want and ("chunk" not in v or got[1] == v["chunk"])
        if not good:
            bad += 1
            print(f"MISMATCH {v['file']}: expected {want}, got {got[0]}")
    print(f"{len(index['vectors']) - bad} passed, {bad} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
