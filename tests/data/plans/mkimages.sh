#!/bin/sh
# Generate the images the plan tests use into DIR (test-plan, test-checkplan):
#   u-boot.imx       mkimage -T imximage, DCD, 300000-byte payload (IVT at 0)
#   nodcd.imx        mkimage -T imximage without DCD commands
#   u-boot-boot.bin  u-boot.imx behind a 1 KiB pre-IVT area (IVT at 0x400)
#   tagged.bin       u-boot.imx + uuu's bootloader tag, inside 1 MiB of zeros at 0x400
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
rm -f imx.cfg nodcd.cfg payload.bin
