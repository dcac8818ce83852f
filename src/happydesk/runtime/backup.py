"""Backups of a running help desk, and restoring one (`happydesk backup PATH`, `happydesk restore PATH`).

A backup is a directory, not an archive: restore checks every file where it lies before writing
anything, standard tools read it (`sha256sum -c SHA256SUMS`, rsync), and `tar -cf` makes one file of it
when it has to travel. Its layout:

    manifest.json      engine, migration state, version, time, and every file's path, size and SHA-256
    SHA256SUMS         the same hashes for `sha256sum -c`
    database.sqlite3   SQLite's online backup of the live file, or
    database.pgdump    `pg_dump -Fc` of DATABASE_URL
    files/             raw/, media/, outbox/, secret_key, encryption.key from the data folder

The database is copied first, then the files. Raw mail and attachments are written (and fsynced) before
the rows that name them commit, so every file a row of the copied database refers to is already on disk
when the files are walked; files newer than the copy are taken too, and simply not referenced yet.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction

import happydesk

FORMAT = 1
MANIFEST = "manifest.json"
# What of the data folder a backup holds. An allowlist, so the database's own files, the realtime
# socket (run/), static/ and test databases never slip in; anything else found is named in the output.
DATA_ENTRIES = ("raw", "media", "outbox", "secret_key", "encryption.key")
# Recreated by Happydesk itself on start, so they do not make a data folder "in use" for restore.
SCAFFOLDING = {"static", "run", "secret_key"}

Say = Callable[[str], None]


class BackupError(Exception):
    """A backup cannot be made or restored; the message says which file or setting, and why."""


@dataclass(frozen=True)
class Engine:
    """The database this process is configured for: 'sqlite' with its file, or 'postgresql'."""

    name: str
    settings: dict[str, Any]

    @property
    def sqlite_path(self) -> Path:
        return Path(self.settings["NAME"])


def current_engine() -> Engine:
    """The default database's engine, as a backup's manifest names it."""
    s = connections["default"].settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return Engine("sqlite", s)
    if "postgresql" in s["ENGINE"]:
        return Engine("postgresql", s)
    raise BackupError(f"backups support SQLite and PostgreSQL, not {s['ENGINE']}")


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_hashed(src: Path, dst: Path) -> tuple[int, str]:
    """Copy one file owner-only and fsynced; the size and SHA-256 of the bytes written (what the backup
    holds, even if the source changed while it was read)."""
    _private_dir(dst.parent)
    digest, size = hashlib.sha256(), 0
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
        while chunk := fin.read(1 << 20):
            digest.update(chunk)
            fout.write(chunk)
            size += len(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    return size, digest.hexdigest()


def _hash_file(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# -- the database -------------------------------------------------------------------------------------


def _referenced_sql() -> tuple[str, str]:
    """The queries for every file path the database refers to: raw mail and attachments."""
    from happydesk.inbox.models import Attachment
    from happydesk.mail.models import RawMessage

    # Table names from the models' own metadata, never from input.
    raw = f"SELECT path FROM {RawMessage._meta.db_table}"  # noqa: S608
    media = f"SELECT file FROM {Attachment._meta.db_table}"  # noqa: S608
    return raw, media


def _referenced(rows_raw: list[tuple[str]], rows_media: list[tuple[str]]) -> set[str]:
    """Paths relative to the data folder (attachments are stored relative to media/)."""
    found = {str(PurePosixPath(p)) for (p,) in rows_raw if p}
    found |= {str(PurePosixPath("media") / p) for (p,) in rows_media if p}
    return found


def _backup_sqlite(engine: Engine, target: Path) -> tuple[list[str], set[str]]:
    """SQLite's online backup API, in one step: a consistent snapshot while the help desk writes.
    Returns the copy's applied migrations and the files its rows refer to."""
    live = sqlite3.connect(f"file:{engine.sqlite_path}?mode=ro", uri=True, timeout=60)
    copy = sqlite3.connect(target)
    try:
        live.backup(copy)  # pages=-1: all at once, under one read transaction of the live file
    finally:
        live.close()
    try:
        # One self-contained file: no -wal beside it to lose on the way.
        copy.execute("PRAGMA journal_mode=DELETE").fetchone()
        (check,) = copy.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise BackupError(f"the copied database fails SQLite's quick_check: {check}")
        migrations = [
            f"{a}.{n}" for a, n in copy.execute("SELECT app, name FROM django_migrations ORDER BY id")
        ]
        raw_sql, media_sql = _referenced_sql()
        referenced = _referenced(copy.execute(raw_sql).fetchall(), copy.execute(media_sql).fetchall())
    finally:
        copy.close()
    target.chmod(0o600)
    return migrations, referenced


def pg_binary(name: str) -> str:
    """pg_dump / pg_restore: HAPPYDESK_PG_BIN, else the PATH, else the newest /usr/lib/postgresql/*/bin."""
    folder = os.environ.get("HAPPYDESK_PG_BIN")
    if folder:
        return str(Path(folder) / name)
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise BackupError(f"{name} not found: install the PostgreSQL client or set HAPPYDESK_PG_BIN")
    return str(candidates[-1])


def pg_env(s: dict[str, Any]) -> dict[str, str]:
    """libpq's environment for the configured database: the password never on a command line (ps)."""
    env = os.environ.copy()
    env.update(
        {
            "PGHOST": str(s.get("HOST") or "127.0.0.1"),
            "PGPORT": str(s.get("PORT") or 5432),
            "PGUSER": str(s.get("USER") or ""),
            "PGDATABASE": str(s["NAME"]),
        }
    )
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    return env


def _backup_postgresql(engine: Engine, target: Path) -> tuple[list[str], set[str]]:
    """`pg_dump -Fc` of a snapshot this connection exports, and read in that same snapshot: the
    migrations and the file references are exactly the dump's."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            done = subprocess.run(
                [pg_binary("pg_dump"), "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"],
                env=pg_env(engine.settings),
                stdout=out,
                stderr=subprocess.PIPE,
                text=False,
                check=False,
            )
            out.flush()
            os.fsync(out.fileno())
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.decode(errors='replace').strip()}")
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
        migrations = [f"{a}.{n}" for a, n in cursor.fetchall()]
        raw_sql, media_sql = _referenced_sql()
        cursor.execute(raw_sql)
        raw_rows = cursor.fetchall()
        cursor.execute(media_sql)
        referenced = _referenced(raw_rows, cursor.fetchall())
    return migrations, referenced


# -- making a backup ----------------------------------------------------------------------------------


def _data_files(data: Path) -> Iterator[Path]:
    """Regular files of the backed-up part of the data folder, sorted; half-written `.tmp` files and
    anything that is not a plain file (sockets, symlinks) left out."""
    for name in DATA_ENTRIES:
        top = data / name
        if top.is_file() and not top.is_symlink():
            yield top
        elif top.is_dir() and not top.is_symlink():
            for root, dirs, files in os.walk(top):
                dirs.sort()
                for f in sorted(files):
                    p = Path(root) / f
                    if not f.endswith(".tmp") and p.is_file() and not p.is_symlink():
                        yield p


def backup_create(*, target: Path, say: Say = lambda _: None) -> dict[str, Any]:
    """Back up the database, then the data folder, into the new directory `target` (owner-only). The
    directory appears under its name only once complete; returns the manifest."""
    data = Path(settings.DATA_DIR).resolve()
    target = target.resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} already exists and is not an empty folder")
    if target == data or data in target.parents:
        raise BackupError(f"{target} is inside the data folder {data}: put backups somewhere else")
    engine = current_engine()
    work = target.with_name(f".{target.name}.partial")
    if work.exists():
        shutil.rmtree(work)  # an earlier run that died half-way
    _private_dir(work)
    started = datetime.now(UTC)

    db_name = "database.sqlite3" if engine.name == "sqlite" else "database.pgdump"
    database_started = _now()
    say(f"copying the {engine.name} database")
    if engine.name == "sqlite":
        migrations, referenced = _backup_sqlite(engine, work / db_name)
    else:
        migrations, referenced = _backup_postgresql(engine, work / db_name)
    database_finished = _now()
    db_size, db_sha = _hash_file(work / db_name)

    files: list[dict[str, Any]] = []
    for src in _data_files(data):
        rel = src.relative_to(data).as_posix()
        try:
            size, sha = _copy_hashed(src, work / "files" / rel)
        except FileNotFoundError:
            continue  # gone since the walk (an outbox file sent and removed): no row names it
        files.append({"path": rel, "size": size, "sha256": sha})
    say(f"copied {len(files)} files")
    others = sorted(
        p.name
        for p in data.iterdir()
        if p.name not in DATA_ENTRIES and p.name not in SCAFFOLDING and ".sqlite3" not in p.name
    )
    held = {f["path"] for f in files}
    missing = sorted(referenced - held)

    manifest = {
        "format": FORMAT,
        "happydesk_version": happydesk.__version__,
        "created_at": started.isoformat(timespec="milliseconds"),
        "finished_at": _now(),
        "data_dir": str(data),
        "database": {
            "engine": engine.name,
            "file": db_name,
            "size": db_size,
            "sha256": db_sha,
            "copy_started_at": database_started,
            "copy_finished_at": database_finished,
            "migrations": migrations,
        },
        "referenced_files": len(referenced),
        "missing_referenced_files": missing,
        "not_backed_up": others,
        "files": files,
    }
    _write_private(work / MANIFEST, json.dumps(manifest, indent=1).encode())
    sums = [f"{db_sha}  {db_name}"] + [f"{f['sha256']}  files/{f['path']}" for f in files]
    _write_private(work / "SHA256SUMS", ("\n".join(sums) + "\n").encode())
    _fsync(work)
    if target.exists():
        target.rmdir()
    work.rename(target)
    _fsync(target.parent)
    if missing:
        # Written anyway (it holds everything that was there), but never reported as a good backup.
        raise BackupError(
            f"{len(missing)} files the database refers to are not in the data folder "
            f"(first: {missing[0]}); the backup at {target} lacks them"
        )
    return manifest


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


# -- checking and restoring ---------------------------------------------------------------------------


def _safe_relative(rel: str) -> str:
    """A manifest path must stay inside its folder: a crafted backup cannot write elsewhere."""
    p = PurePosixPath(rel)
    if not rel or p.is_absolute() or ".." in p.parts or p.parts[0] not in DATA_ENTRIES:
        raise BackupError(f"the manifest names a file outside the data folder: {rel!r}")
    return p.as_posix()


def backup_verify(source: Path) -> dict[str, Any]:
    """Read the manifest and check the database and every file against its size and SHA-256; a
    BackupError names the first file that is missing or changed. Returns the manifest."""
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{source} is not a Happydesk backup: no {MANIFEST}") from None
    except ValueError as exc:
        raise BackupError(f"{source / MANIFEST} is damaged: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"{source} has backup format {manifest.get('format')!r}; this version reads {FORMAT}"
        )
    db = manifest["database"]
    # The database file is one of the two names backup_create writes, beside the manifest: a crafted
    # manifest cannot have restore load a database from elsewhere (`/tmp/theirs.sqlite3`, `../x`).
    if db.get("file") not in ("database.sqlite3", "database.pgdump"):
        raise BackupError(f"the manifest names a database file outside the backup: {db.get('file')!r}")
    entries = [(db["file"], db["size"], db["sha256"])]
    entries += [(f"files/{_safe_relative(f['path'])}", f["size"], f["sha256"]) for f in manifest["files"]]
    for rel, size, sha in entries:
        path = source / rel
        if not path.is_file():
            raise BackupError(f"the backup is incomplete: {rel} is missing")
        if _hash_file(path) != (size, sha):
            raise BackupError(f"the backup is damaged: {rel} does not match its SHA-256 in the manifest")
    return manifest


def _in_use() -> list[str]:
    """Why the configured data folder or database is not empty (nothing: safe to restore into)."""
    data = Path(settings.DATA_DIR)
    reasons = []
    for p in sorted(data.iterdir()):
        # SQLite files (and their -wal, -shm) are judged by their tables below, not by being there.
        if p.name in SCAFFOLDING or ".sqlite3" in p.name:
            continue
        if p.is_dir() and not any(q.is_file() for q in p.rglob("*")):
            continue
        reasons.append(f"the data folder holds {p.name}")
    if connection.introspection.table_names():
        reasons.append("the database has tables")
    return reasons


def backup_restore(*, source: Path, force: bool = False, say: Say = lambda _: None) -> dict[str, Any]:
    """Restore a verified backup into this process's data folder and database. Refuses a data folder or
    database in use unless `force`; even then files not in the backup are left where they are."""
    from django.db.migrations.loader import MigrationLoader

    source = source.resolve()
    manifest = backup_verify(source)
    say(f"checked {len(manifest['files']) + 1} files against the manifest")
    engine = current_engine()
    if manifest["database"]["engine"] != engine.name:
        raise BackupError(
            f"the backup holds a {manifest['database']['engine']} database; this desk is configured for "
            f"{engine.name} (set DATABASE_URL)"
        )
    known = {
        f"{app}.{name}" for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    }
    newer = [m for m in manifest["database"]["migrations"] if m not in known]
    if newer and not force:
        raise BackupError(
            f"the backup comes from a newer Happydesk ({manifest['happydesk_version']}): migration {newer[0]} "
            "is unknown here; upgrade first"
        )
    busy = _in_use()
    if busy and not force:
        raise BackupError(f"refusing to overwrite: {'; '.join(busy)} (--force restores over it)")

    data = Path(settings.DATA_DIR)
    for entry in manifest["files"]:
        rel = _safe_relative(entry["path"])
        dst = data / rel
        _private_dir(dst.parent)
        tmp = dst.with_name(dst.name + ".restore.tmp")
        tmp.unlink(missing_ok=True)
        _copy_hashed(source / "files" / rel, tmp)
        os.replace(tmp, dst)
    say(f"restored {len(manifest['files'])} files")

    db_file = source / manifest["database"]["file"]
    connections.close_all()
    if engine.name == "sqlite":
        _restore_sqlite(db_file, engine.sqlite_path)
    else:
        _restore_postgresql(db_file, engine, clean=force)
    say(f"restored the {engine.name} database")
    _release_leases(say)
    return manifest


def _release_leases(say: Say) -> None:
    """Mail the backup's workers had leased is pending; those workers are not this desk's, so free it
    for the first worker here instead of waiting out the lease (best effort: leases expire anyway)."""
    from django.db import DatabaseError

    from happydesk.mail.models import RawMessage

    try:
        freed = (
            RawMessage.objects.filter(state=RawMessage.State.PENDING)
            .exclude(claimed_by="")
            .update(claimed_by="", claimed_until=None)
        )
    except DatabaseError as exc:  # a backup from a version whose schema migrate has yet to bring up
        say(f"leases left to expire: {exc}")
    else:
        say(f"{freed} pending messages were leased by the backed-up desk's workers: freed")
    connections.close_all()


def _restore_sqlite(db_file: Path, target: Path) -> None:
    """SQLite's backup API from the backup's copy into the configured file: replaces its contents in one
    transaction (and its WAL with it), whatever was there."""
    _private_dir(target.parent)
    src = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    dst = sqlite3.connect(target, timeout=60)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL").fetchone()
    finally:
        src.close()
        dst.close()


def _restore_postgresql(db_file: Path, engine: Engine, *, clean: bool) -> None:
    """pg_restore in a single transaction: all of it or nothing."""
    args = [
        pg_binary("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
    ]
    if clean:
        args += ["--clean", "--if-exists"]
    done = subprocess.run(
        [*args, "--dbname", str(engine.settings["NAME"]), str(db_file)],
        env=pg_env(engine.settings),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
