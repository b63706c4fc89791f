/* Unit tests for `flashd --check-plan`: the table, the JSON object, exit
 * codes and messages. checkplan_main runs in this process with stdout and
 * stderr redirected to files. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/checkplan.h"
#include "plan-testlib.h"
#include "testutil.h"

static char *out_text, *err_text;

/* Run checkplan_main(argv…) with stdout/stderr captured. */
static int run(const char *first, ...)
{
	char *argv[80];
	int argc = 0, so, se, fo, fe, rc;
	va_list ap;

	argv[argc++] = (char *)"flashd";
	argv[argc++] = (char *)first;
	va_start(ap, first);
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	free(out_text);
	free(err_text);
	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	fo = open(plantest_path("out"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	fe = open(plantest_path("err"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	dup2(fo, 1);
	dup2(fe, 2);
	rc = checkplan_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	close(fo);
	close(fe);
	out_text = testutil_slurp(plantest_path("out"), NULL);
	err_text = testutil_slurp(plantest_path("err"), NULL);
	return rc;
}

static void write_plan(const char *name, const char *text)
{
	testutil_write_file(plantest_path(name), text, strlen(text));
}

static const char *emmc_all(void)
{
	static char path[600];

	snprintf(path, sizeof(path), "%s/tests/data/plans/uuu-emmc_all.lst",
		 getenv("top_srcdir") ? getenv("top_srcdir") : ".");
	return path;
}

static uint32_t le32_at(const char *file, long off)
{
	FILE *f = fopen(plantest_path(file), "rb");
	uint8_t b[4];

	assert_non_null(f);
	fseek(f, off, SEEK_SET);
	assert_int_equal(fread(b, 1, 4, f), 4);
	fclose(f);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static json_int_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (json_int_t)st.st_size;
}

static json_t *parse_json(void)
{
	json_error_t e;
	json_t *j = json_loads(out_text, 0, &e);

	if (!j)
		fail_msg("not JSON (%s): %s", e.text, out_text);
	/* exactly one object, one line */
	assert_non_null(strchr(out_text, '\n'));
	assert_int_equal(strchr(out_text, '\n')[1], '\0');
	return j;
}

static json_t *step_at_line(json_t *root, json_int_t line)
{
	size_t i;
	json_t *s;

	json_array_foreach(json_object_get(root, "steps"), i, s)
		if (json_integer_value(json_object_get(s, "line")) == line)
			return s;
	fail_msg("no step at line %lld", (long long)line);
	return NULL;
}

static json_int_t jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_integer(v))
		fail_msg("%s is not an integer", k);
	return json_integer_value(v);
}

static void test_table(void **state)
{
	static const char *const want[] = {
		"plan    ",
		"    8  SDP: boot -f ",
		"u-boot.imx: i.MX image, ",
		"   12  SDPS: boot -scanterm -f",
		"(not run on i.MX6)",
		"sends \"UCmd:setenv fastboot_dev mmc\"",
		"   34  FB: flash -raw2sparse all ",
		"rootfs.img: raw, 1048576 bytes, 1 download (sent as sparse)",
		"max-download-size 0x7000000",
		"   38  FB: done",
		NULL
	};

	assert_int_equal(run("--check-plan", emmc_all(), plantest_path("u-boot.imx"),
			     plantest_path("rootfs.img"), NULL),
			 0);
	assert_string_equal(err_text, "");
	testutil_assert_contains(out_text, want);
}

static void test_json(void **state)
{
	char want[65];
	json_t *root, *s, *img;

	assert_int_equal(run("--check-plan", "--json", emmc_all(), plantest_path("u-boot.imx"),
			     plantest_path("rootfs.img"), NULL),
			 0);
	assert_string_equal(err_text, "");
	root = parse_json();
	assert_string_equal(json_string_value(json_object_get(root, "plan")), emmc_all());
	testutil_sha256sum(emmc_all(), want);
	assert_string_equal(json_string_value(json_object_get(root, "sha256")), want);
	assert_int_equal(jint(root, "max_download_size"), 0x7000000);
	assert_int_equal(json_array_size(json_object_get(root, "steps")), 16);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(root, "params"), "_image")),
	    plantest_path("rootfs.img"));
	/* the i.MX image, against the bytes of the IVT and DCD header */
	s = step_at_line(root, 8);
	assert_string_equal(json_string_value(json_object_get(s, "op")), "boot");
	assert_string_equal(json_string_value(json_object_get(s, "proto")), "SDP");
	assert_true(json_is_true(json_object_get(s, "runs")));
	img = json_object_get(s, "image");
	assert_int_equal(jint(img, "ivt_offset"), 0);
	assert_int_equal(jint(img, "entry"), le32_at("u-boot.imx", 4));
	assert_int_equal(jint(img, "load_addr"), le32_at("u-boot.imx", 20)); /* IVT self, IVT at 0 */
	/* DCD header at 0x2c: D2, BE16 length, 40 */
	assert_int_equal(jint(img, "dcd_size"), (le32_at("u-boot.imx", 0x2c) >> 8 & 0xff) << 8 |
							 (le32_at("u-boot.imx", 0x2c) >> 16 & 0xff));
	assert_true(json_is_false(json_object_get(img, "plugin")));
	assert_true(json_is_false(json_object_get(img, "spl")));
	assert_true(json_is_false(json_object_get(root, "boots_spl")));
	assert_int_equal(json_array_size(json_object_get(root, "usb_ids")), 0);
	assert_int_equal(jint(img, "size"), file_size(plantest_path("u-boot.imx")));
	/* not-run steps carry no image */
	s = step_at_line(root, 12);
	assert_true(json_is_false(json_object_get(s, "runs")));
	assert_null(json_object_get(s, "image"));
	/* the raw root filesystem */
	s = step_at_line(root, 34);
	assert_string_equal(json_string_value(json_object_get(s, "fastboot")), "flash:all");
	img = json_object_get(s, "image");
	assert_string_equal(json_string_value(json_object_get(img, "format")), "raw");
	assert_int_equal(jint(img, "size"), file_size(plantest_path("rootfs.img")));
	assert_int_equal(jint(img, "expanded_size"), file_size(plantest_path("rootfs.img")));
	assert_int_equal(jint(img, "pieces"), 1);
	json_decref(root);
}

/* an SPL board: the ROM boots the SPL, SDPV: sends U-Boot proper; CFG IDs */
static void test_spl(void **state)
{
	static const char *const want[] = {
		"    1  SDP: boot -f spl-flash.bin",
		"a U-Boot SPL: the board comes back as U-Boot SPL's SDP gadget",
		"    2  SDPV: write -f spl-flash.bin -skipspl",
		"spl-flash.bin: 300064 bytes from offset 0xac00 to the SPL's load address (CONFIG_SDP_LOADADDR)",
		"    3  SDPV: jump",
		"jumps to what it loaded (CONFIG_SDP_LOADADDR)",
		NULL
	};
	json_t *root, *s, *id;

	write_plan("spl.lst", "SDP: boot -f spl-flash.bin\nSDPV: write -f spl-flash.bin -skipspl\nSDPV: jump\n"
			      "CFG: SDPV: -vid 0x1b67 -pid 0x4000 -bcdversion 0x500\nFB: done\n# flashd: no-write\n");
	assert_int_equal(run("--check-plan", plantest_path("spl.lst"), NULL), 0);
	testutil_assert_contains(out_text, want);
	assert_int_equal(run("--check-plan", plantest_path("spl.lst"), "--json", NULL), 0);
	root = parse_json();
	assert_true(json_is_true(json_object_get(root, "boots_spl")));
	assert_true(json_is_true(json_object_get(root, "spl_stage")));
	s = step_at_line(root, 1);
	assert_true(json_is_true(json_object_get(json_object_get(s, "image"), "spl")));
	s = step_at_line(root, 2);
	assert_true(json_is_true(json_object_get(s, "runs")));
	assert_int_equal(jint(s, "addr"), 0);
	assert_int_equal(jint(json_object_get(s, "image"), "offset"),
			 file_size(plantest_path("spl.imx")));
	assert_int_equal(jint(json_object_get(s, "image"), "size"),
			 file_size(plantest_path("u-boot.img")));
	id = json_array_get(json_object_get(root, "usb_ids"), 0);
	assert_string_equal(json_string_value(json_object_get(id, "proto")), "SDPV");
	assert_int_equal(jint(id, "vid"), 0x1b67);
	assert_int_equal(jint(id, "pid"), 0x4000);
	assert_int_equal(jint(id, "bcd_min"), 0x500);
	assert_int_equal(jint(id, "bcd_max"), 0x500);
	assert_int_equal(jint(id, "line"), 4);
	json_decref(root);
	/* a full U-Boot: the SPL lines are kept, and say when they would run */
	write_plan("spl.lst", "SDP: boot -f u-boot.imx\nSDPV: write -f spl-flash.bin -skipspl\nSDPV: jump\n"
			      "# flashd: no-write\n");
	assert_int_equal(run("--check-plan", plantest_path("spl.lst"), NULL), 0);
	assert_non_null(strstr(out_text, "SDPV: jump    (runs if the board comes up as U-Boot SPL)"));
	/* one that cannot be computed is display only, without a range */
	write_plan("spl.lst", "SDP: boot -f u-boot.imx\nSDPV: write -f u-boot.imx -skipspl\nSDPV: jump\n"
			      "# flashd: no-write\n");
	assert_int_equal(run("--check-plan", plantest_path("spl.lst"), NULL), 0);
	assert_non_null(strstr(out_text, "-skipspl    (not run on i.MX6)\n    3  SDPV: jump    (not run on i.MX6)\n"));
	assert_int_equal(run("--check-plan", plantest_path("spl.lst"), "--json", NULL), 0);
	root = parse_json();
	assert_null(json_object_get(step_at_line(root, 2), "image"));
	json_decref(root);
	/* the SPL without lines for U-Boot proper: refused */
	write_plan("spl.lst", "SDP: boot -f spl.imx\nFB: done\n");
	assert_int_equal(run("--check-plan", plantest_path("spl.lst"), NULL), 1);
	assert_non_null(strstr(err_text, "spl.lst:1: spl.imx is a U-Boot SPL (entry 0x00908000 in OCRAM): the "
				       "plan needs SDPV: (or SDPU:) write and jump lines for U-Boot proper"));
}

/* pieces follow --max-download-size: never fewer than the data needs */
static void test_pieces(void **state)
{
	json_int_t prev = 0, pieces;
	const char *sizes[] = { "0x100000", "262144", "0x20000", "0x10000" };
	json_t *root, *img;

	write_plan("flash.lst", "FB: flash a rootfs.simg\nFB: flash b rootfs.img\n");
	for (size_t i = 0; i < 4; i++) {
		json_int_t max = (json_int_t)strtoll(sizes[i], NULL, 0);
		assert_int_equal(run("--check-plan", plantest_path("flash.lst"), "--json",
				     "--max-download-size", sizes[i], NULL),
				 0);
		root = parse_json();
		assert_int_equal(jint(root, "max_download_size"), max);
		img = json_object_get(step_at_line(root, 1), "image");
		assert_string_equal(json_string_value(json_object_get(img, "format")), "sparse");
		assert_int_equal(jint(img, "size"), file_size(plantest_path("rootfs.simg")));
		assert_int_equal(jint(img, "expanded_size"),
				 file_size(plantest_path("rootfs.img")));
		pieces = jint(img, "pieces");
		assert_true(pieces >= (file_size(plantest_path("rootfs.simg")) + max - 1) / max);
		assert_true(pieces >= prev);
		prev = pieces;
		/* a raw image that does not fit is split too */
		img = json_object_get(step_at_line(root, 2), "image");
		assert_string_equal(json_string_value(json_object_get(img, "format")), "raw");
		assert_true(jint(img, "pieces") >=
			    (file_size(plantest_path("rootfs.img")) + max - 1) / max);
		json_decref(root);
	}
	assert_true(prev > 1);
	/* -S caps the piece size below max-download-size */
	write_plan("capped.lst", "FB: flash -S 0x10000 a rootfs.simg\n");
	assert_int_equal(run("--check-plan", plantest_path("capped.lst"), "--json", NULL), 0);
	root = parse_json();
	assert_int_equal(jint(json_object_get(step_at_line(root, 1), "image"), "pieces"), prev);
	json_decref(root);
	/* equals form, decimal */
	assert_int_equal(
	    run("--max-download-size=65536", "--check-plan", plantest_path("capped.lst"), NULL), 0);
	assert_non_null(strstr(out_text, "max-download-size 0x10000"));
}

static void test_download_and_write(void **state)
{
	json_t *root, *img;

	write_plan("dl.lst", "SDP: write -f rootfs.img -addr 0x12000000 -offset 0x100\nFB: download -f small.bin\n"
			     "# flashd: no-write\n");
	assert_int_equal(run("--check-plan", plantest_path("dl.lst"), "--json", NULL), 0);
	root = parse_json();
	img = json_object_get(step_at_line(root, 1), "image");
	assert_int_equal(jint(img, "offset"), 0x100);
	assert_int_equal(jint(img, "size"), file_size(plantest_path("rootfs.img")) - 0x100);
	assert_null(json_object_get(img, "ivt_offset"));
	img = json_object_get(step_at_line(root, 2), "image");
	assert_int_equal(jint(img, "pieces"), 1);
	assert_int_equal(jint(img, "size"), 16);
	json_decref(root);
	assert_int_equal(run("--check-plan", plantest_path("dl.lst"), NULL), 0);
	assert_non_null(strstr(out_text, "rootfs.img: 1048320 bytes from offset 0x100 to 0x12000000"));
	/* a download that cannot fit the device's buffer */
	assert_int_equal(
	    run("--check-plan", plantest_path("dl.lst"), "--max-download-size", "8", NULL), 1);
	assert_non_null(strstr(err_text, "dl.lst:2: small.bin: 16 bytes do not fit max-download-size 0x8\n"));
}

/* where each flash line is read back (flashd-plan(5) "Verify"), and a plan
 * that writes nothing */
static void test_verify_and_no_write(void **state)
{
	json_t *root;

	write_plan("v.lst", "FB: flash -verify-at 0x400 bootloader small.bin\n"
			    "FB: flash rootfs rootfs.img\n"
			    "FB: flash -no-verify misc small.bin\n"
			    "FB: flash gpt small.bin\n"
			    "FB: flash -verify-part 1 data small.bin\n");
	assert_int_equal(run("--check-plan", plantest_path("v.lst"), NULL), 0);
	assert_non_null(strstr(out_text, "read back and checked on the board: eMMC user area at 0x400\n"));
	assert_non_null(strstr(out_text, "read back with verify = on: where U-Boot's part command finds rootfs\n"));
	assert_non_null(strstr(out_text, "never read back (-no-verify)\n"));
	assert_non_null(strstr(out_text, "not read back, even with verify = on"));
	assert_non_null(strstr(out_text, "read back and checked on the board: where U-Boot's part command finds 1\n"));
	assert_null(strstr(out_text, "writes nothing"));
	assert_int_equal(run("--check-plan", plantest_path("v.lst"), "--json", NULL), 0);
	root = parse_json();
	assert_string_equal(json_string_value(json_object_get(json_object_get(step_at_line(root, 1), "verify"), "when")),
			    "always");
	assert_string_equal(json_string_value(json_object_get(json_object_get(step_at_line(root, 2), "verify"), "when")),
			    "on");
	assert_string_equal(json_string_value(json_object_get(json_object_get(step_at_line(root, 3), "verify"), "when")),
			    "never");
	assert_string_equal(json_string_value(json_object_get(json_object_get(step_at_line(root, 4), "verify"), "when")),
			    "never");
	assert_true(json_is_false(json_object_get(root, "no_write")));
	json_decref(root);
	write_plan("nw.lst", "FB: getvar version\n# flashd: no-write\n");
	assert_int_equal(run("--check-plan", plantest_path("nw.lst"), NULL), 0);
	assert_non_null(strstr(out_text, "writes nothing to the board (# flashd: no-write)\n"));
	write_plan("nw.lst", "FB: getvar version\n");
	assert_int_equal(run("--check-plan", plantest_path("nw.lst"), NULL), 1);
	assert_non_null(strstr(err_text, "nw.lst: no line writes to the board"));
}

static void test_split_error(void **state)
{
	write_plan("tiny.lst", "FB: flash -raw2sparse a rootfs.img\n");
	assert_int_equal(
	    run("--check-plan", plantest_path("tiny.lst"), "--max-download-size", "64", NULL), 1);
	assert_non_null(strstr(err_text, "tiny.lst:1: rootfs.img: "));
	assert_int_equal(run("--check-plan", plantest_path("tiny.lst"), "--json",
			     "--max-download-size", "64", NULL),
			 1);
	assert_string_equal(out_text, "");
	assert_non_null(strstr(err_text, "tiny.lst:1: rootfs.img: "));
}

static void test_plan_errors(void **state)
{
	write_plan("bad.lst", "FB: getvar version\nFB: frob\n");
	assert_int_equal(run("--check-plan", plantest_path("bad.lst"), NULL), 1);
	assert_string_equal(out_text, "");
	assert_non_null(strstr(err_text, "bad.lst:2: unknown command 'frob' for FB:\n"));
	assert_int_equal(run("--check-plan", plantest_path("bad.lst"), "--json", NULL), 1);
	assert_string_equal(out_text, "");
	assert_int_equal(run("--check-plan", plantest_path("missing.lst"), NULL), 1);
	assert_non_null(strstr(err_text, "missing.lst: No such file or directory"));
	/* arguments are bound; without one, uuu's literal file name names the line */
	assert_int_equal(run("--check-plan", emmc_all(), NULL), 1);
	assert_non_null(strstr(err_text, "uuu-emmc_all.lst:8: _flash.bin: No such file or directory (parameter "
				       "'_flash.bin' got no argument"));
	assert_int_equal(run("--check-plan", emmc_all(), "a", "b", "c", NULL), 1);
	assert_non_null(strstr(err_text, "3 arguments given"));
}

static void test_usage(void **state)
{
	char *many[70];
	int rc;

	assert_int_equal(run("--check-plan", NULL), 2);
	assert_non_null(strstr(err_text, "no plan given"));
	assert_non_null(strstr(err_text, "usage: flashd --check-plan PLAN"));
	assert_int_equal(run("--check-plan", "x.lst", "--frob", NULL), 2);
	assert_non_null(strstr(err_text, "unknown option '--frob'"));
	assert_int_equal(run("--check-plan", "x.lst", "--max-download-size", NULL), 2);
	assert_non_null(strstr(err_text, "--max-download-size needs a value"));
	assert_int_equal(run("--check-plan", "x.lst", "--max-download-size", "0", NULL), 2);
	assert_non_null(strstr(err_text, "bad --max-download-size '0'"));
	assert_int_equal(run("--check-plan", "x.lst", "--max-download-size", "0x100000000", NULL), 2);
	assert_int_equal(run("--check-plan", "x.lst", "--max-download-size=lots", NULL), 2);
	assert_int_equal(run("--check-plan", "--help", NULL), 0);
	assert_non_null(strstr(out_text, "usage: flashd --check-plan"));
	assert_string_equal(err_text, "");
	/* "--" ends the options; --check-plan=PLAN names the plan */
	write_plan("-dash.lst", "FB: done\n# flashd: no-write\n");
	assert_int_equal(chdir(plantest_dir()), 0);
	assert_int_equal(run("--check-plan", "--", "-dash.lst", NULL), 0);
	assert_int_equal(run("--check-plan=-dash.lst", NULL), 0);
	assert_non_null(strstr(out_text, "plan    -dash.lst"));
	/* bounded argument list */
	many[0] = (char *)"x.lst";
	for (int i = 1; i < 66; i++)
		many[i] = (char *)"a";
	many[66] = NULL;
	{
		char *argv[70] = { (char *)"flashd", (char *)"--check-plan" };
		for (int i = 0; i <= 66; i++)
			argv[2 + i] = many[i];
		fflush(stderr);
		int se = dup(2), fe = open("/dev/null", O_WRONLY | O_CLOEXEC);
		dup2(fe, 2);
		rc = checkplan_main(68, argv);
		dup2(se, 2);
		close(se);
		close(fe);
	}
	assert_int_equal(rc, 2);
}

/* an argument that is not UTF-8 still gives valid JSON */
static void test_json_non_utf8(void **state)
{
	const char *name = "\xff\xfe.bin";
	json_t *root;

	write_plan(name, "0123456789");
	write_plan("arg.lst", "# @_f | file\nFB: flash a _f\n");
	assert_int_equal(chdir(plantest_dir()), 0);
	assert_int_equal(run("--check-plan", plantest_path("arg.lst"), "--json", name, NULL), 0);
	root = parse_json();
	assert_string_equal(json_string_value(json_object_get(step_at_line(root, 2), "cmd")), "FB: flash a ??.bin");
	json_decref(root);
}

/* gzip file of the raw rootfs.img, made with zlib's own compressor */
static void gzip_file(const char *from, const char *to)
{
	size_t n, got;
	char *in = testutil_slurp(from, &n);
	uint8_t *b = plantest_gzip((const uint8_t *)in, n, &got);

	testutil_write_file(to, b, got);
	free(b);
	free(in);
}

/* A compressed image: both hashes; decompressed into the configured state
 * directory's cache (a hit the second time); into a private folder, removed
 * at exit, when that state directory cannot be used. */
static void test_compressed(void **state)
{
	char raw[65], src[65], conf[700], cached[900];
	struct stat sb;
	json_t *root, *img;

	gzip_file(plantest_path("rootfs.img"), plantest_path("rootfs.wic.gz"));
	testutil_sha256sum(plantest_path("rootfs.img"), raw);
	testutil_sha256sum(plantest_path("rootfs.wic.gz"), src);
	write_plan("z.lst", "FB: flash -raw2sparse all rootfs.wic.gz\nFB: done\n");
	assert_int_equal(mkdir(plantest_path("state"), 0700), 0);
	snprintf(conf, sizeof(conf), "journal = %s/state/results.jsonl\n", plantest_dir());
	testutil_write_file(plantest_path("flashd.conf"), conf, strlen(conf));
	assert_int_equal(run("--check-plan", plantest_path("z.lst"), "-c",
			     plantest_path("flashd.conf"), "--json", NULL),
			 0);
	root = parse_json();
	img = json_object_get(step_at_line(root, 1), "image");
	assert_string_equal(json_string_value(json_object_get(img, "compression")), "gzip");
	assert_string_equal(json_string_value(json_object_get(img, "source_sha256")), src);
	assert_string_equal(json_string_value(json_object_get(img, "sha256")), raw);
	assert_int_equal(jint(img, "size"), file_size(plantest_path("rootfs.img")));
	json_decref(root);
	snprintf(cached, sizeof(cached), "%s/state/cache/%s.raw", plantest_dir(), src);
	assert_int_equal(stat(cached, &sb), 0);
	assert_int_equal(run("--check-plan", plantest_path("z.lst"), "--config",
			     plantest_path("flashd.conf"), NULL),
			 0);
	testutil_assert_contains(out_text, (const char *const[]){
		"rootfs.wic.gz: raw, ", "gzip-compressed file, sha256 ", src,
		"(decompressed copy from the cache)", NULL });
	/* no usable state directory: a private folder under $TMPDIR, gone at exit */
	snprintf(conf, sizeof(conf), "journal = %s/no/such/dir/results.jsonl\n", plantest_dir());
	testutil_write_file(plantest_path("flashd.conf"), conf, strlen(conf));
	assert_int_equal(mkdir(plantest_path("tmp"), 0700), 0);
	setenv("TMPDIR", plantest_path("tmp"), 1);
	assert_int_equal(
	    run("--check-plan", plantest_path("z.lst"), "-c", plantest_path("flashd.conf"), NULL),
	    0);
	unsetenv("TMPDIR");
	testutil_assert_contains(out_text, (const char *const[]){ "gzip-compressed file, sha256 ", NULL });
	assert_null(strstr(out_text, "from the cache"));
	assert_int_equal(rmdir(plantest_path("tmp")), 0); /* empty again */
	/* a state directory of another user (root checking the daemon's plan):
	 * nothing is written into it */
	if (geteuid() == 0) {
		snprintf(conf, sizeof(conf), "journal = %s/other/results.jsonl\n", plantest_dir());
		testutil_write_file(plantest_path("flashd.conf"), conf, strlen(conf));
		assert_int_equal(mkdir(plantest_path("other"), 0750), 0);
		assert_int_equal(chown(plantest_path("other"), 65534, 65534), 0);
		assert_int_equal(run("--check-plan", plantest_path("z.lst"), "-c",
				     plantest_path("flashd.conf"), NULL),
				 0);
		assert_int_equal(rmdir(plantest_path("other")),
				 0); /* still empty: no cache made there */
	}
	/* a configuration that does not parse is a usage error */
	testutil_write_file(plantest_path("flashd.conf"), "settle = banana\n", 16);
	assert_int_equal(
	    run("--check-plan", plantest_path("z.lst"), "-c", plantest_path("flashd.conf"), NULL),
	    2);
	testutil_assert_contains(err_text, (const char *const[]){ "flashd.conf:1", NULL });
}


/* Pool variables: the pools come from the configuration (-c); each line
 * with variables shows the command with the pools' first values. */
static void test_pools(void **state)
{
	char conf[1200];
	json_t *root, *s, *pools;

	write_plan("pools.lst", "FB: ucmd setenv serial# ${pool:serial}\n"
				"FB: ucmd setenv ethaddr ${pool:eth} ; setenv eth1addr ${pool:eth:1}\n"
				"FB: acmd echo ${pool:eth:1}\n"
				"FB: ucmd saveenv\n"
				"FB: done\n");
	assert_int_equal(mkdir(plantest_path("pstate"), 0700), 0);
	snprintf(conf, sizeof(conf),
		 "journal = %s/pstate/results.jsonl\n"
		 "[pool serial]\nkind = serial\nformat = SN%%08u\nstart = 1\nend = 99999999\n"
		 "[pool eth]\nkind = mac\nrange = 00:11:22:00:00:00-00:11:22:00:ff:ff\ncount = 2\n"
		 "[pool unused]\nkind = serial\nformat = U%%u\nstart = 1\nend = 9\n",
		 plantest_dir());
	testutil_write_file(plantest_path("pools.conf"), conf, strlen(conf));
	assert_int_equal(run("--check-plan", plantest_path("pools.lst"), "-c",
			     plantest_path("pools.conf"), NULL),
			 0);
	assert_string_equal(err_text, "");
	testutil_assert_contains(
	    out_text,
	    (const char *const[]){
		"pool    serial: serial SN%08u from 1 count 1, 99999999 boards, sqlite\n",
		"pool    eth: mac from 001122000000 count 2, 32768 boards, sqlite\n",
		"    1  FB: ucmd setenv serial# ${pool:serial}\n"
		"        sends \"UCmd:setenv serial# ${pool:serial}\"\n"
		"        e.g. \"UCmd:setenv serial# SN00000001\" (the pools' first values)\n",
		"        e.g. \"UCmd:setenv ethaddr 00:11:22:00:00:00 ; setenv eth1addr "
		"00:11:22:00:00:01\" (the pools' first values)\n",
		"        e.g. \"ACmd:echo 00:11:22:00:00:01\"",
		"    4  FB: ucmd saveenv\n        sends \"UCmd:saveenv\"\n    5", NULL });
	assert_null(strstr(out_text, "pool    unused"));
	assert_int_equal(run("--check-plan", "--json", plantest_path("pools.lst"), "--config",
			     plantest_path("pools.conf"), NULL),
			 0);
	root = parse_json();
	s = step_at_line(root, 1);
	assert_string_equal(json_string_value(json_object_get(s, "fastboot")),
			    "UCmd:setenv serial# ${pool:serial}");
	assert_string_equal(json_string_value(json_object_get(s, "fastboot_example")),
			    "UCmd:setenv serial# SN00000001");
	assert_null(json_object_get(step_at_line(root, 4), "fastboot_example"));
	pools = json_object_get(root, "pools");
	assert_int_equal(json_array_size(pools), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(pools, 1), "name")),
			    "eth");
	assert_string_equal(json_string_value(json_object_get(json_array_get(pools, 1), "kind")),
			    "mac");
	assert_int_equal(jint(json_array_get(pools, 1), "count"), 2);
	assert_int_equal(jint(json_array_get(pools, 1), "blocks"), 32768);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(pools, 0), "fingerprint")),
	    "serial SN%08u from 1 count 1");
	json_decref(root);

	/* a configuration without the pool: refused at the line */
	snprintf(conf, sizeof(conf),
		 "journal = %s/pstate/results.jsonl\n"
		 "[pool serial]\nkind = serial\nformat = SN%%08u\nstart = 1\nend = 99999999\n",
		 plantest_dir());
	testutil_write_file(plantest_path("pools.conf"), conf, strlen(conf));
	assert_int_equal(run("--check-plan", plantest_path("pools.lst"), "-c",
			     plantest_path("pools.conf"), NULL),
			 1);
	testutil_assert_contains(err_text, (const char *const[]){
		"pools.lst:2: unknown pool 'eth' (flashd.conf declares: serial)\n", NULL });
	/* a plan without variables has no pools in its output */
	assert_int_equal(run("--check-plan", "--json", emmc_all(), plantest_path("u-boot.imx"),
			     plantest_path("rootfs.img"), "-c", plantest_path("pools.conf"), NULL),
			 0);
	root = parse_json();
	assert_int_equal(json_array_size(json_object_get(root, "pools")), 0);
	json_decref(root);
}

static int setup(void **state)
{
	return plantest_setup("test-checkplan", true);
}

static int teardown(void **state)
{
	free(out_text);
	free(err_text);
	assert_int_equal(chdir("/"), 0);
	return plantest_teardown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_spl),
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_download_and_write),
		cmocka_unit_test(test_split_error),
		cmocka_unit_test(test_verify_and_no_write),
		cmocka_unit_test(test_plan_errors),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_json_non_utf8),
		cmocka_unit_test(test_compressed),
		cmocka_unit_test(test_pools),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
