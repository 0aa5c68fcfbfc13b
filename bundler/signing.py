"""Tamper evidence: a detached Ed25519 signature of manifest.json (`manifest.json.sig`, the raw 64-byte signature
over the file's exact bytes). Keys are PEM files (PKCS#8 private, SubjectPublicKeyInfo public) and are never
written into any artefact."""

from __future__ import annotations

from pathlib import Path

from .errors import InputError, OutputError, VerificationError
from .inputs import MAX_KEY_BYTES, MAX_TEXT_BYTES, read_file
from .output import atomic_write

SIGNATURE_SUFFIX = ".sig"


def keygen(out_dir: Path, name: str = "bundle-signing") -> tuple[Path, Path]:
    """Write a new Ed25519 key pair `<name>.key` (private) and `<name>.pub` into `out_dir`; never overwrite."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private_path, public_path = out_dir / f"{name}.key", out_dir / f"{name}.pub"
    for path in (private_path, public_path):
        if path.exists():
            raise OutputError("exists; refusing to overwrite a key", path)
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    atomic_write(private_path, private)
    private_path.chmod(0o600)
    atomic_write(public_path, public)
    return private_path, public_path


def _load(path: Path, private: bool):  # -> Ed25519PrivateKey | Ed25519PublicKey
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    raw, _ = read_file(path, max_size=MAX_KEY_BYTES)
    try:
        key = (serialization.load_pem_private_key(raw, password=None) if private
               else serialization.load_pem_public_key(raw))
    except UnsupportedAlgorithm:  # e.g. a brainpool curve: a key type cryptography cannot load
        raise InputError("a key of a type that cannot be loaded; expected an Ed25519 key", path) from None
    except (ValueError, TypeError):
        kind = "private" if private else "public"
        raise InputError(f"not an unencrypted PEM {kind} key", path) from None
    expected = ed25519.Ed25519PrivateKey if private else ed25519.Ed25519PublicKey
    if not isinstance(key, expected):
        raise InputError("not an Ed25519 key", path)
    return key


def sign(manifest: bytes, private_key: Path) -> bytes:
    return _load(private_key, private=True).sign(manifest)


def key_fingerprint(key: Path, private: bool = True) -> str:
    """SHA-256 (hex) of the public key's DER SubjectPublicKeyInfo, from the private or the public PEM file - what
    `openssl pkey -pubin -in KEY.pub -outform DER | sha256sum` prints; the job sheet names the signer by it."""
    import hashlib

    from cryptography.hazmat.primitives import serialization

    loaded = _load(key, private=private)
    public = loaded.public_key() if private else loaded
    return hashlib.sha256(public.public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()


def verify(manifest_path: Path, public_key: Path) -> None:
    """Raise VerificationError unless `<manifest>.sig` is a valid signature of the manifest's bytes by `public_key`."""
    from cryptography.exceptions import InvalidSignature

    key = _load(public_key, private=False)
    sig_path = manifest_path.with_name(manifest_path.name + SIGNATURE_SUFFIX)
    if not sig_path.is_file():
        raise VerificationError(f"no signature {sig_path.name} beside the manifest", manifest_path)
    manifest, _ = read_file(manifest_path, max_size=MAX_TEXT_BYTES)
    signature, _ = read_file(sig_path, max_size=MAX_KEY_BYTES)
    try:
        key.verify(signature, manifest)
    except InvalidSignature:
        raise VerificationError(
            f"signature does not verify with {public_key.name}: the manifest was edited or signed with another key",
            manifest_path) from None
