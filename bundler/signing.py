"""Tamper evidence: a detached Ed25519 signature of manifest.json (`manifest.json.sig`, the raw 64-byte signature
over the file's exact bytes). Keys are PEM files (PKCS#8 private, SubjectPublicKeyInfo public) and are never
written into any artefact."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import InputError, OutputError, VerificationError
from .inputs import MAX_KEY_BYTES, MAX_TEXT_BYTES, read_file
from .output import atomic_write

SIGNATURE_SUFFIX = ".sig"
PRIVATE_KEY_MODE = 0o600
_SAFE_STEM = re.compile(r"^[A-Za-z0-9._-]+$")
# a folder holding one of these is a bundle (build / serialize output) or a line kit: never a place for a key
_KIT_MARKERS = ("kit.sha256", "kit_config.tcl")  # also in any folder above: a kit's logs/ is inside the kit
_SHARED_FOLDER_MARKERS = ("manifest.json", *_KIT_MARKERS)


def keygen(out_dir: Path, name: str = "bundle-signing", force: bool = False) -> tuple[Path, Path]:
    """Write a new Ed25519 key pair `<name>.key` (private) and `<name>.pub` into `out_dir`.

    The private key file is created with mode 0600 by os.open itself, so it is never readable by others, not
    even for a moment (and whatever the umask). Existing keys are kept unless `force`; a bundle or line-kit
    folder (it is handed to others) is refused."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    out_dir = Path(out_dir)
    if not _SAFE_STEM.match(name):
        raise OutputError(f"--name {name!r}: expected letters, digits, . _ - (a file name stem)")
    for folder in (out_dir, *out_dir.resolve().parents):
        for marker in _SHARED_FOLDER_MARKERS if folder == out_dir else _KIT_MARKERS:
            if (folder / marker).exists():
                raise OutputError(f"{folder} holds {marker}: a bundle or line-kit folder is given to others; keep "
                                  "the key elsewhere", out_dir)
    private_path, public_path = out_dir / f"{name}.key", out_dir / f"{name}.pub"
    if not force:
        for path in (private_path, public_path):
            if path.exists() or path.is_symlink():
                raise OutputError("exists; refusing to overwrite a key (--force replaces it)", path)
    try:
        out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # a new key folder is private too
    except OSError as exc:
        raise OutputError(f"cannot create the key folder: {exc.strerror}", out_dir) from None
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    _write_private(private_path, private, force)
    atomic_write(public_path, public)
    return private_path, public_path


def _write_private(path: Path, data: bytes, force: bool) -> None:
    """`data` into a temporary file created 0600 (O_CREAT | O_EXCL, mode given to open itself), then linked to
    `path` (which fails if a key appeared there meanwhile) or, with `force`, renamed over it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), PRIVATE_KEY_MODE)
    except OSError as exc:
        raise OutputError(f"cannot create the key file: {exc.strerror}", tmp) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), PRIVATE_KEY_MODE)  # a umask can only remove bits; this also drops none added
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
            tmp.unlink()
    except FileExistsError:
        tmp.unlink(missing_ok=True)
        raise OutputError("exists; refusing to overwrite a key (--force replaces it)", path) from None
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write the key: {exc.strerror}", path) from None


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


def verify(manifest_path: Path, public_key: Path, what: str = "the manifest") -> None:
    """Raise VerificationError unless `<file>.sig` is a valid signature of the file's bytes by `public_key` (a
    manifest, or a line kit's kit.sha256)."""
    from cryptography.exceptions import InvalidSignature

    key = _load(public_key, private=False)
    sig_path = manifest_path.with_name(manifest_path.name + SIGNATURE_SUFFIX)
    if not sig_path.is_file():
        raise VerificationError(f"no signature {sig_path.name} beside it", manifest_path)
    manifest, _ = read_file(manifest_path, max_size=MAX_TEXT_BYTES)
    signature, _ = read_file(sig_path, max_size=MAX_KEY_BYTES)
    try:
        key.verify(signature, manifest)
    except InvalidSignature:
        raise VerificationError(
            f"signature does not verify with {Path(public_key).name}: {what} was edited or signed with another key",
            manifest_path) from None
