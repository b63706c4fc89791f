#!/usr/bin/env python3
"""logreplay: replay a dm-log-writes log onto a copy of the device it logged, and
check the state at every flush point (a power cut there leaves exactly that state).

The log format is the kernel's (drivers/md/dm-log-writes.c, struct log_write_super
and struct log_write_entry; Documentation/admin-guide/device-mapper/log-writes.rst):
sector 0 holds the super (magic 0x6a736677736872, version 1, nr_entries, sectorsize),
then one entry per logged bio: a sectorsize block starting with {sector, nr_sectors,
flags, data_len} (little-endian u64s; sector and nr_sectors in sectorsize units),
followed by nr_sectors blocks of data, except for discards and marks (a mark's text
is data_len bytes right after the header, in the same block). Writes are logged in
the order they completed, a FLUSH entry after every write it covered, so the prefix
of the log up to a FLUSH or FUA entry is a state the device can be in after a power
cut (xfstests' replay-log --check flush does the same).

usage: logreplay.py LOG BASE WORK SNAP JOURNAL
  LOG      the log device's contents (a file)
  BASE     the device's contents when logging started (an ext4 filesystem)
  WORK     a file to build the states in (overwritten)
  SNAP     a file each state is copied to and mounted from (mounting replays the
           filesystem's own journal, which must not touch WORK)
  JOURNAL  flashd's results journal, relative to the filesystem's root
At every flush point that follows a write (a flush after none leaves the state the
previous point checked) and at the end, the state must mount, and flashd's journal, if
it exists, must be what flashd can open (journal.c: only the last line may be torn,
and it is then cut), hold every record that flashd had acknowledged before that
point (a mark "ack:PORT:START_MS" logged by the test when flashd published the
result), and its records must be a prefix of the records at the end: none lost,
none changed. Prints one line per point and a summary; exits non-zero at the first
point that fails.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

MAGIC = 0x6a736677736872
FLUSH, FUA, DISCARD, MARK = 1, 2, 4, 8


def entries(log):
    """(index, flags, sector, nr_sectors, payload or None, sectorsize) of every entry"""
    head = os.pread(log, 32, 0)
    magic, version, count, ssize = struct.unpack("<QQQI", head[:28])
    if magic != MAGIC or version != 1 or ssize < 512 or ssize & (ssize - 1):
        sys.exit("logreplay: not a dm-log-writes log (magic %#x, version %d)" % (magic, version))
    off = ssize
    for i in range(count):
        block = os.pread(log, ssize, off)
        if len(block) < ssize:
            sys.exit("logreplay: the log ends inside entry %d" % i)
        sector, nr, flags, dlen = struct.unpack("<QQQQ", block[:32])
        off += ssize
        if flags & MARK:
            yield i, flags, sector, 0, block[32:32 + dlen].decode("utf-8", "replace"), ssize
            continue
        data = None
        if not flags & DISCARD and nr:
            data = os.pread(log, nr * ssize, off)
            if len(data) < nr * ssize:
                sys.exit("logreplay: the log ends inside the data of entry %d" % i)
            off += nr * ssize
        yield i, flags, sector, nr, data, ssize


def run(*cmd):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout.strip()


def read_journal(snap, rel, mnt):
    """the journal's bytes in the filesystem image snap, or None if there is none"""
    loop = run("losetup", "-f", "--show", snap)
    try:
        run("mount", "-t", "ext4", loop, mnt)
        try:
            path = os.path.join(mnt, rel)
            return open(path, "rb").read() if os.path.exists(path) else None
        finally:
            run("umount", mnt)
    finally:
        run("losetup", "-d", loop)


def records(data):
    """the complete records, and whether a torn last line was cut (journal.c's rule)"""
    lines = data.split(b"\n")
    tail = lines.pop()  # after the last newline: b"" or a line without one
    out, torn = [], bool(tail)
    for k, line in enumerate(lines):
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict) or "port" not in rec:
                raise ValueError("not a record")
        except ValueError as e:
            if k != len(lines) - 1 or torn:
                raise ValueError("line %d of %d is not a record: %s" % (k + 1, len(lines), e))
            torn = True
            continue
        out.append(rec)
    return out, torn


def ack_key(rec):
    return "ack:%s:%s" % (rec.get("port"), rec.get("start_ms"))


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__.split("\n\n")[2])
    logpath, base, work, snap, rel = sys.argv[1:]
    shutil.copyfile(base, work)
    log = os.open(logpath, os.O_RDONLY)
    dev = os.open(work, os.O_RDWR)
    mnt = tempfile.mkdtemp(prefix="logreplay.")
    marks, states = [], []
    dirty = True  # writes since the last point (a flush after none leaves the same state)

    def point(entry):
        nonlocal dirty
        dirty = False
        os.fsync(dev)
        shutil.copyfile(work, snap)
        data = read_journal(snap, rel, mnt)
        recs, torn = records(data) if data is not None else ([], False)
        have = {ack_key(r) for r in recs}
        lost = [m for m in marks if m.startswith("ack:") and m not in have]
        if lost:
            sys.exit("logreplay: point %d (entry %d): acknowledged records missing: %s"
                     % (len(states), entry, " ".join(lost)))
        states.append((entry, recs))
        print("point %d entry %d: %s, %d records%s, %d acknowledged" % (
            len(states) - 1, entry, "no journal" if data is None else "%d bytes" % len(data),
            len(recs), " + a torn line" if torn else "",
            sum(1 for m in marks if m.startswith("ack:"))), flush=True)

    last = -1
    for i, flags, sector, nr, data, ssize in entries(log):
        last = i
        if flags & MARK:
            marks.append(data)
            continue
        if flags & DISCARD:
            os.pwrite(dev, bytes(nr * ssize), sector * ssize)
            dirty = True
        elif data:
            os.pwrite(dev, data, sector * ssize)
            dirty = True
        if flags & (FLUSH | FUA) and dirty:
            point(i)
    point(last)
    final = states[-1][1]
    for k, (entry, recs) in enumerate(states):
        if recs != final[:len(recs)]:
            sys.exit("logreplay: point %d (entry %d): its records are not a prefix of the last "
                     "point's" % (k, entry))
    os.rmdir(mnt)
    print("logreplay: %d entries, %d points checked, %d marks, %d records at the end"
          % (last + 1, len(states), len(marks), len(final)))


if __name__ == "__main__":
    main()
