/* plan: flash plans in the dialect of NXP uuu scripts (flashd-plan(5)).
 *
 * plan_load() reads a plan, binds its parameters, parses every line into a
 * step, has the caller's opener (struct plan_images; the daemon's image.c)
 * open every image the runnable steps name, and validates what the steps do
 * with them, so a broken plan is rejected with "file:line: message" before
 * any board is touched. The core does no image I/O: it looks at an image
 * through its imgsrc (memory or the opener's read function) and at what the
 * opener found (hash, i.MX header, sparse layout, block map). The result is
 * immutable and refcounted; images are refcounted separately so a board can
 * keep the image it is flashing alive after the plan it came from was
 * replaced.
 *
 * The daemon walks the steps in order, uuu's way: a line of a protocol runs
 * when a device of that protocol is on the port. SDP lines while the board
 * is in the boot ROM; SDPU lines on a U-Boot SPL SDP gadget that uuu's table
 * calls SDPU (bcdDevice < 0x0500), SDPV lines on one it calls SDPV
 * (bcdDevice 0x0500-0x9998); FB lines once it is a fastboot device. Steps
 * with runs_on_imx6 == false (SDPS lines, CFG lines, and SPL lines that
 * cannot be reached and whose write range cannot be computed, with every
 * line of their protocol) are kept for display only and never run.
 *
 * SDPU/SDPV steps: WRITE sends image [image_offset, +image_len) (computed
 * at load as uuu does: -offset, -skipfhdr, -scanterm, -skipspl) to addr;
 * JUMP sends addr (file and image are NULL: uuu ignores -f there); DELAY,
 * DONE. addr 0 (has_addr false) means the SPL's CONFIG_SDP_LOADADDR. */
#ifndef FLASHD_PLAN_H
#define FLASHD_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flashd/imgsrc.h"
#include "flashd/imx_image.h"
#include "flashd/sparse.h"

#define PLAN_FILE_MAX (1u << 20)  /* bytes in a plan file */
#define PLAN_LINE_MAX 4096u       /* bytes in one line, also after substitution */
#define PLAN_PARAMS_MAX 32u       /* parameters ("_name" words, as uuu finds them) */
#define PLAN_STEPS_MAX 4096u
#define PLAN_USB_IDS_MAX 16u      /* CFG: FB:/SDPU:/SDPV: -vid -pid entries */
/* U-Boot's fastboot gadget takes a command shorter than its 4096-byte
 * EP_BUFFER_SIZE request (drivers/usb/gadget/f_fastboot.c,
 * rx_handler_command, mainline and uboot-imx); ACmd copies its text into
 * 64 bytes and refuses 64 or more (drivers/fastboot/fb_command.c). */
#define PLAN_FB_CMD_MAX 4095u     /* bytes of a fastboot command ("UCmd:…") */
#define PLAN_ACMD_MAX 63u         /* bytes of an acmd's text */

enum plan_proto {
	PLAN_PROTO_SDP,   /* i.MX6/7 boot ROM (HID) */
	PLAN_PROTO_SDPS,  /* stream-mode ROMs: parsed, not run */
	PLAN_PROTO_SDPU,  /* U-Boot SPL SDP gadget, bcdDevice < 0x0500 (or 0x9999) */
	PLAN_PROTO_SDPV,  /* U-Boot SPL SDP gadget, bcdDevice 0x0500-0x9998 */
	PLAN_PROTO_FB,    /* U-Boot fastboot (also spelled FASTBOOT:) */
	PLAN_PROTO_CFG,   /* device table entry, applied at load */
};

enum plan_op {
	PLAN_OP_BOOT,      /* SDP: DCD + write + (clear DCD) + jump */
	PLAN_OP_DCD,       /* SDP: DCD_WRITE of the image's DCD only */
	PLAN_OP_WRITE,     /* SDP: WRITE_FILE; SDPU/SDPV: WRITE_FILE of
			    * [image_offset, +image_len) to addr (0: the SPL's
			    * CONFIG_SDP_LOADADDR, sent as 0 as uuu does) */
	PLAN_OP_JUMP,      /* SDP: JUMP_ADDRESS to the image's IVT;
			    * SDPU/SDPV: JUMP_ADDRESS addr (0 as uuu sends it) */
	PLAN_OP_STATUS,    /* SDP: ERROR_STATUS */
	PLAN_OP_GETVAR,    /* FB */
	PLAN_OP_UCMD,      /* FB: "UCmd:<cmd>" */
	PLAN_OP_ACMD,      /* FB: "ACmd:<cmd>" */
	PLAN_OP_OEM,       /* FB: "oem <text>" */
	PLAN_OP_FLASH,     /* FB: download piece(s) + "flash:<part>" */
	PLAN_OP_DOWNLOAD,  /* FB: "download:%08x" + data */
	PLAN_OP_ERASE,     /* FB: "erase:<part>" */
	PLAN_OP_REBOOT,    /* FB: "reboot" */
	PLAN_OP_CONTINUE,  /* FB: "continue" */
	PLAN_OP_DELAY,     /* any protocol: wait delay_ms */
	PLAN_OP_DONE,      /* any protocol: end of the flow */
	PLAN_OP_CFG,       /* CFG line */
};

/* An opened image, made by the opener (struct plan_images). Its bytes are
 * either held in memory (data: what SDP steps send and -scanterm scans must
 * be, PLAN_IMAGE_IN_MEMORY) or read from the file when sent (data NULL;
 * src.read fails with -ESTALE once the file is no longer the one that was
 * hashed, so what is sent is what sha256 says). A compressed file (zstd,
 * gzip, bzip2, xz by magic) is decompressed once into the daemon's cache;
 * the image is then that payload, a raw or sparse image like any other, and
 * records both hashes. */
struct plan_image {
	unsigned refs;            /* use plan_image_ref/unref (atomic: a loader
				   * thread may share an unchanged image, below) */
	void (*release)(struct plan_image *img); /* the opener's: frees it at the last unref */
	char *path;               /* resolved path it was first opened by (one image
				   * per file: another path to the same inode shares it);
				   * for a compressed file, the compressed file */
	const uint8_t *data;      /* all size bytes in memory, or NULL (read via src) */
	size_t size;
	struct imgsrc src;        /* the size bytes: data, or the opener's reader */
	bool has_bmap;            /* PATH.bmap exists (uuu would use it, flashd does not) */
	char sha256[65];          /* of the payload: the bytes sent */
	const char *compression;  /* "zstd", "gzip", "bzip2", "xz"; NULL: not compressed */
	char source_sha256[65];   /* compression: SHA-256 of the compressed file; else "" */
	bool cache_hit;           /* compression: the payload was already in the cache */
	struct sparse_map *map;   /* raw images: the block map (4 KiB blocks) raw→sparse
				   * writers share, built while hashing; NULL if none */
	bool is_imx;              /* imx_image_parse() accepted it (images in memory
				   * only); imx valid */
	struct imx_image imx;
	const char *imx_why;      /* !is_imx: why not (static text) */
	bool sparse_ok;           /* sparse_probe() accepted it; sparse valid */
	struct sparse_info sparse;
	const char *sparse_why;   /* !sparse_ok: why not (static text) */
};

struct plan_step {
	unsigned line;
	enum plan_proto proto;
	enum plan_op op;
	bool runs_on_imx6;        /* false: SDPS and CFG lines, unreachable SPL lines that
				   * cannot be computed (never run) */
	const char *text;         /* the line as written (comment and blanks trimmed) */
	const char *cmd;          /* the line after parameter substitution */
	const char *arg;          /* getvar variable; ucmd/acmd/oem text; flash/erase
				   * partition; CFG: the text after "CFG:"; else NULL */
	const char *fb_cmd;       /* FB wire command ("getvar:x", "UCmd:…", "flash:part",
				   * "reboot", …; ≤ PLAN_FB_CMD_MAX bytes, may hold a tab);
				   * NULL for download and non-FB steps */
	bool pool_vars;           /* fb_cmd holds ${pool:NAME[:K]} variables (pool.h), kept
				   * unexpanded: the station substitutes the board's values
				   * when it sends it (pool_expand); plan_bind_pools checked
				   * them and that the longest values fit */
	const char *file;         /* -f/flash FILE after substitution, as written; or NULL */
	struct plan_image *image; /* opened image (runnable steps with a file), or NULL */
	uint64_t image_offset;    /* part of the image the step uses: [offset, offset+len) */
	uint64_t image_len;
	uint32_t timeout_ms;      /* PROTO[-t MS]: ; 0 = the configured default */
	uint32_t delay_ms;        /* delay */
	uint32_t dcd_addr;        /* -dcdaddr; 0 = the SoC's default */
	uint32_t addr;            /* write -addr */
	bool has_addr;
	bool use_ivt;             /* write/jump -ivt: address from the image's IVT */
	bool nojump, cleardcd;    /* boot -nojump, boot/jump -cleardcd */
	bool raw2sparse, no_bmap; /* flash */
	bool scanterm;            /* flash/write -scanterm */
	bool skipspl, skipfhdr;   /* SDPU/SDPV write -skipspl/-skipfhdr: already applied
				   * to image_offset/image_len at load */
	uint64_t scan_limit;      /* -scanlimited; 0 = whole file */
	uint64_t sparse_limit;    /* flash -S; 0 = max-download-size only */
	/* flash read-back verification (flashd extensions, flashd-plan(5)
	 * "Verify"): -verify, or -verify-at/-verify-part (they imply it);
	 * -no-verify opts the line out of the station's verify = on */
	bool verify, no_verify;
	bool has_verify_at;       /* -verify-at BYTES: the region's offset on the user area */
	uint64_t verify_at;
	const char *verify_part;  /* -verify-part P: U-Boot's `part start` finds P; or NULL */
};

/* Where a flash step's region is on the board, for its read-back. */
enum plan_verify_loc {
	PLAN_VERIFY_PART,  /* `part start mmc DEV NAME`: a partition U-Boot's part command finds */
	PLAN_VERIFY_AT,    /* a byte offset on the eMMC user area */
	PLAN_VERIFY_BOOT1, /* the boot partitions (hwpart 1, 2), from byte 0 */
	PLAN_VERIFY_BOOT2,
};

struct plan_verify_target {
	enum plan_verify_loc loc;
	const char *part;         /* PART: the name or number given to `part start` */
	uint64_t at;              /* AT: byte offset (a multiple of 512) */
	uint64_t max_len;         /* bytes of the image the board writes there (0: all);
				   * "mbr": U-Boot writes one sector */
};

/* The region of a flash step: -verify-at, -verify-part, else by the
 * partition name as U-Boot's fb_mmc.c treats it ("mbr": sector 0;
 * "mmc0boot0"/"mmc0boot1": the boot partitions), else `part start` with
 * the name. -EINVAL for a step that is not a flash. */
int plan_verify_target(const struct plan_step *step, struct plan_verify_target *t);
/* A word that goes into a U-Boot command line as it is (a partition name
 * or number): letters, digits, _ . - :, at most PLAN_VERIFY_WORD_MAX. */
#define PLAN_VERIFY_WORD_MAX 32u /* PART_NAME_LEN */
bool plan_verify_word(const char *s);
/* A flash line the station's verify = on leaves alone (its record says
 * "not verified"): -no-verify, a partition table U-Boot rewrites ("gpt"),
 * a name U-Boot's part command cannot be given, or not a flash at all. */
bool plan_step_verify_skipped(const struct plan_step *step);

/* A device table entry from "CFG: PROTO: -vid V -pid P [-bcdversion B |
 * -bcdmin A -bcdmax B]" (uuu's config.cpp): a device of that VID:PID whose
 * bcdDevice is in [bcd_min, bcd_max] is a device of proto. */
struct plan_usb_id {
	enum plan_proto proto;    /* PLAN_PROTO_FB, _SDPU or _SDPV */
	uint16_t vid, pid;
	uint16_t bcd_min, bcd_max;/* 0 and 0xffff unless the line says otherwise */
	unsigned line;
};

struct plan;
struct pool_def;

/* how the plan needs an image (plan_images.open) */
#define PLAN_IMAGE_IN_MEMORY 0x1u /* all bytes in data: SDP/SDPU/SDPV steps, -scanterm */

/* The opener of a plan's images: the caller's (the daemon's image.c). open
 * resolves file (as written) against dir, and returns a new reference to
 * an image in *out: one of have (the plan's images so far) or of earlier
 * plans when it is the same unchanged file and fits how, else a new one.
 * -errno with a NUL-terminated reason in why on failure. */
struct plan_images {
	int (*open)(void *ud, const char *dir, const char *file, unsigned how,
		    struct plan_image *const *have, size_t nhave, struct plan_image **out,
		    char *why, size_t whylen);
	void *ud;
};

/* Load the plan at path with args bound to its parameters in order, as
 * "uuu -b" binds them (flashd-plan(5), Parameters), opening its images with
 * images (NULL: none are opened, the image checks are skipped: syntax and
 * options only). 0 and *out set, or a negative errno and, if err != NULL, a
 * NUL-terminated "file:line: message" (or "file: message") in err. */
int plan_load(const char *path, const char *const *args, size_t nargs, const struct plan_images *images,
	      struct plan **out, char *err, size_t errlen);
/* Same from memory: name is used in messages, relative image paths resolve
 * against dir (NULL: the current directory). */
int plan_parse(const char *name, const char *dir, const char *text, size_t len,
	       const char *const *args, size_t nargs, const struct plan_images *images,
	       struct plan **out, char *err, size_t errlen);

struct plan *plan_ref(struct plan *p);
struct plan *plan_unref(struct plan *p);   /* NULL-safe; returns NULL */
struct plan_image *plan_image_ref(struct plan_image *img);
struct plan_image *plan_image_unref(struct plan_image *img);

const char *plan_path(const struct plan *p);
const char *plan_sha256(const struct plan *p);     /* of the plan file's bytes */
size_t plan_n_steps(const struct plan *p);
const struct plan_step *plan_step(const struct plan *p, size_t i); /* NULL if out of range */
size_t plan_n_images(const struct plan *p);         /* distinct images */
struct plan_image *plan_image(const struct plan *p, size_t i);
/* Extra device IDs from "CFG: FB:/SDPU:/SDPV: -vid V -pid P" lines, in
 * plan order. */
const struct plan_usb_id *plan_usb_ids(const struct plan *p, size_t *n);
/* Parameters in order of first appearance and the values they got (value
 * NULL: no argument, the name stays in the text as a literal word). */
size_t plan_n_params(const struct plan *p);
int plan_param(const struct plan *p, size_t i, const char **name, const char **value);

/* The boot chain (flashd-plan(5), "U-Boot SPL"). An image is an SPL when
 * its IVT (self or entry) lies in i.MX6/7 OCRAM, 0x00900000-0x0093FFFF. */
bool plan_image_is_spl(const struct plan_image *img);
/* The first SDP boot (or jump -f) starts an SPL: the board will come up
 * as U-Boot SPL's SDP gadget and the SDPU/SDPV lines run. */
bool plan_boots_spl(const struct plan *p);
/* SDPU: or SDPV: has both write and jump lines (plan_load refuses a plan
 * whose SDP image is an SPL without them). */
bool plan_has_spl_stage(const struct plan *p);
/* A board of this plan can come up as U-Boot SPL: the ROM boots an SPL,
 * or the plan has no SDP boot at all (a board that arrives as SPL). False
 * when the ROM boots a full U-Boot: SPL lines are then never reached. */
bool plan_spl_reachable(const struct plan *p);
/* The plan writes nothing to the board and says so ("# flashd: no-write");
 * plan_load refuses a plan without a writing line that does not. */
bool plan_no_write(const struct plan *p);

/* Pool variables (flashd-plan(5), "Pool variables"): check every
 * ${pool:NAME[:K]} of the plan's FB: getvar, ucmd, acmd and oem lines
 * against the pools flashd.conf declares: the pool exists, K < its count,
 * and the line still fits PLAN_FB_CMD_MAX (an acmd's text PLAN_ACMD_MAX)
 * with the pools' longest values. Records the pools the plan uses. 0, or
 * -EINVAL with "file:line: message" in err. Every load path calls it after
 * a successful plan_load (with no pools: a plan using one is refused). */
int plan_bind_pools(struct plan *p, const struct pool_def *defs, size_t n, char *err,
		    size_t errlen);
/* The distinct pools the plan's variables name, in order of first use
 * (after plan_bind_pools; 0 before). */
size_t plan_n_pools(const struct plan *p);
const char *plan_pool_name(const struct plan *p, size_t i); /* NULL if out of range */

const char *plan_op_to_string(enum plan_op op);
const char *plan_proto_to_string(enum plan_proto proto);

#endif
