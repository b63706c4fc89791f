#!/bin/sh
# Generate the images the plan tests use into DIR (test-plan, test-checkplan):
#   u-boot.imx       mkimage -T imximage, DCD, 300000-byte payload (IVT at 0)
#   nodcd.imx        mkimage -T imximage without DCD commands
#   u-boot-boot.bin  u-boot.imx behind a 1 KiB pre-IVT area (IVT at 0x400)
#   tagged.bin       u-boot.imx + uuu's bootloader tag, inside 1 MiB of zeros at 0x400,
#                    with an MBR signature (a disk image, as uuu's -scanterm wants)
#   notag-mbr.bin    1 MiB disk image (MBR signature) holding u-boot.imx, no tag
#   spl.imx          an i.MX6 U-Boot SPL: mkimage -T imximage, entry 0x00908000 (OCRAM)
#   u-boot.img       U-Boot proper for it: mkimage -T firmware (legacy header)
#   spl-flash.bin    spl.imx followed by u-boot.img (what SDPV: write -skipspl splits)
#   spl-disk.bin     spl-flash.bin + tag at 0x400 in 1 MiB with an MBR signature
#   plugin.imx       u-boot.imx with the boot data's plugin flag set
#   notag.bin        u-boot.imx + a malformed tag (no size), then a tag whose
#                    size is larger than what precedes it
#   rootfs.img       raw, 1 MiB: random, zero and pattern blocks
#   rootfs.simg      img2simg of rootfs.img
#   bad.simg         rootfs.simg with its chunk count corrupted
#   small.bin        16 random bytes
#   empty.bin        0 bytes
set -eu
dir=$1
cd "$dir"
cat >imx.cfg <<'CFG'
IMAGE_VERSION 2
BOOT_FROM sd
DATA 4 0x020c4068 0xffffffff
DATA 4 0x020c406c 0xffffffff
CHECK_BITS_SET 4 0x021b001c 0x00008000
CLR_BIT 4 0x020c4070 0x00000001
SET_BIT 4 0x020c4074 0x00000002
CFG
printf 'IMAGE_VERSION 2\nBOOT_FROM sd\n' >nodcd.cfg
head -c 300000 /dev/urandom >payload.bin
mkimage -n imx.cfg -T imximage -e 0x17800000 -d payload.bin u-boot.imx >/dev/null
mkimage -n nodcd.cfg -T imximage -e 0x17800000 -d payload.bin nodcd.imx >/dev/null
{ head -c 1024 /dev/zero; cat u-boot.imx; } >u-boot-boot.bin
size=$(wc -c <u-boot.imx)
head -c 1048576 /dev/zero >tagged.bin
{ cat u-boot.imx; printf 'UUUBURNXXOEUZX7+A-XY5601QQWWZ%sEND' "$size"; } |
	dd of=tagged.bin bs=1024 seek=1 conv=notrunc 2>/dev/null
mbr() { printf '\125\252' | dd of="$1" bs=1 seek=510 conv=notrunc 2>/dev/null; }
mbr tagged.bin
head -c 1048576 /dev/zero >notag-mbr.bin
dd if=u-boot.imx of=notag-mbr.bin bs=1024 seek=1 conv=notrunc 2>/dev/null
mbr notag-mbr.bin
head -c 40000 /dev/urandom >spl-payload.bin
mkimage -n nodcd.cfg -T imximage -e 0x00908000 -d spl-payload.bin spl.imx >/dev/null
mkimage -A arm -O u-boot -T firmware -C none -a 0x17800000 -e 0x17800000 -n U-Boot \
	-d payload.bin u-boot.img >/dev/null
cat spl.imx u-boot.img >spl-flash.bin
size=$(wc -c <spl-flash.bin)
head -c 1048576 /dev/zero >spl-disk.bin
{ cat spl-flash.bin; printf 'UUUBURNXXOEUZX7+A-XY5601QQWWZ%sEND' "$size"; } |
	dd of=spl-disk.bin bs=1024 seek=1 conv=notrunc 2>/dev/null
mbr spl-disk.bin
cp u-boot.imx plugin.imx
printf '\001' | dd of=plugin.imx bs=1 seek=40 conv=notrunc 2>/dev/null
{
	cat u-boot.imx
	printf 'UUUBURNXXOEUZX7+A-XY5601QQWWZEND'
	printf 'UUUBURNXXOEUZX7+A-XY5601QQWWZ99999999END'
} >notag.bin
{
	head -c 65536 /dev/urandom
	head -c 131072 /dev/zero
	i=0; while [ $i -lt 2048 ]; do printf '\001\357\315\253\001\357\315\253\001\357\315\253\001\357\315\253'; i=$((i + 1)); done
	head -c 819200 /dev/urandom
} >rootfs.img
img2simg rootfs.img rootfs.simg
cp rootfs.simg bad.simg
printf '\377' | dd of=bad.simg bs=1 seek=20 conv=notrunc 2>/dev/null
head -c 16 /dev/urandom >small.bin
: >empty.bin
rm -f imx.cfg nodcd.cfg payload.bin spl-payload.bin
