"""A self-signed certificate for the local HTTPS stand-ins (``LocalServer(tls=...)``).

>>> import ssl, tempfile
>>> from pathlib import Path
>>> cert, key = self_signed(Path(tempfile.mkdtemp()), "127.0.0.1")
>>> server_side(cert, key).verify_mode == ssl.CERT_NONE, cert.name
(True, 'cert.pem')
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path


def self_signed(folder: Path, host: str) -> tuple[Path, Path]:
    """A certificate for ``host`` (an IP address or a DNS name) that is its own CA, valid from
    5 minutes ago for a day, and its key: ``folder / "cert.pem"``, ``folder / "key.pem"``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    try:
        alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt = x509.DNSName(host)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_side(cert: Path, key: Path) -> ssl.SSLContext:
    """The server's TLS context for ``LocalServer(tls=...)``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
