import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from vetvol.core.crypto import DecryptionError, decrypt, encrypt, lookup_hash

SECRET = "JBSWY3DPEHPK3PXPSECRETVALUE"


def test_round_trip_and_binding_to_the_field():
    token = encrypt("440301199001011234", b"registry.volunteer.id_number")
    assert token.startswith("v1.")
    assert "440301199001011234" not in token
    assert decrypt(token, b"registry.volunteer.id_number") == "440301199001011234"
    with pytest.raises(DecryptionError):
        decrypt(token, b"registry.volunteer.phone")  # copied into another column: refused
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(DecryptionError):
        decrypt(tampered, b"registry.volunteer.id_number")


def test_same_plaintext_gives_different_ciphertexts_but_one_lookup_hash():
    a, b = encrypt("13812341234", b"ctx"), encrypt("13812341234", b"ctx")
    assert a != b
    assert lookup_hash("13812341234", "phone") == lookup_hash("13812341234", "phone")
    assert lookup_hash("13812341234", "phone") != lookup_hash("13812341234", "id_number")


@pytest.mark.django_db
def test_encrypted_column_holds_ciphertext_only(root):
    root.totp_secret = SECRET
    root.save(update_fields=["totp_secret"])
    with connection.cursor() as cur:
        cur.execute("SELECT totp_secret FROM accounts_user WHERE id = %s", [root.pk])
        stored = cur.fetchone()[0]
    assert stored.startswith("v1.") and SECRET not in stored
    root.refresh_from_db()
    assert root.totp_secret == SECRET


def test_sqlite_database_file_holds_no_plaintext(tmp_path: Path):
    """The real file on disk, written by the real command line, never contains the secret."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VETVOL_VAR_DIR": str(tmp_path),
    }
    script = (
        "import django; django.setup();"
        "from vetvol.accounts.models import User;"
        f"u = User.objects.create_user('alice', password='x'); u.totp_secret = '{SECRET}'; u.save()"
    )
    subprocess.run([sys.executable, "-m", "vetvol", "migrate", "-v", "0"], env=env, check=True)
    subprocess.run(
        [sys.executable, "-c", script], env={**env, "DJANGO_SETTINGS_MODULE": "vetvol.settings"}, check=True
    )
    data = b"".join(p.read_bytes() for p in tmp_path.glob("db.sqlite3*"))
    assert b"alice" in data  # the row is there …
    assert SECRET.encode() not in data  # … but not the secret
