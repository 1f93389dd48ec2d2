"""The proofs of ipcd's key handshake (docs/protocol.md, "Authenticate").

Both sides sign the two 32-byte nonces with HMAC-SHA256 under the shared
key, each with its own label, so the key never crosses the wire and a
recorded proof is worthless on another connection.

Thread safety: pure functions.
"""
import hashlib
import hmac
import os

NONCE_SIZE = 32


def make_nonce():
    return os.urandom(NONCE_SIZE)


def client_proof(key, server_nonce, client_nonce):
    return hmac.new(key, b"ipcd-v1 client" + server_nonce + client_nonce,
                    hashlib.sha256).digest()


def server_proof(key, client_nonce, server_nonce):
    return hmac.new(key, b"ipcd-v1 server" + client_nonce + server_nonce,
                    hashlib.sha256).digest()


def proofs_equal(a, b):
    """Compares in constant time: timing must not tell how much matched."""
    return hmac.compare_digest(a, b)
