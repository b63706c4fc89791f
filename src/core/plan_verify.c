/* plan_verify: where a flash line's region is for its read-back
 * (flashd-plan(5) "Verify"), apart from the plan loader so the sessions can
 * use it alone. */
#include "flashd/plan.h"

#include <errno.h>
#include <string.h>

/* Names U-Boot's fb_mmc.c gives the whole devices (mainline defaults of
 * CONFIG_FASTBOOT_MMC_BOOT1_NAME, _BOOT2_NAME, _USER_NAME) and its MBR
 * and GPT "partitions" (CONFIG_FASTBOOT_MBR_NAME, CONFIG_FASTBOOT_GPT_NAME). */
#define PLAN_FB_BOOT1 "mmc0boot0"
#define PLAN_FB_BOOT2 "mmc0boot1"
#define PLAN_FB_USER "mmc0"
#define PLAN_FB_MBR "mbr"
#define PLAN_FB_GPT "gpt"

/* A word that goes into a U-Boot command line as it is: no blank, quote,
 * '$', ';' or anything else its shell would read. */
bool plan_verify_word(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > PLAN_VERIFY_WORD_MAX)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && !strchr("_.-:", *s))
			return false;
	return true;
}

int plan_verify_target(const struct plan_step *step, struct plan_verify_target *t)
{
	if (!step || step->op != PLAN_OP_FLASH || !step->arg)
		return -EINVAL;
	*t = (struct plan_verify_target){ .loc = PLAN_VERIFY_PART, .part = step->arg };
	if (step->has_verify_at) {
		t->loc = PLAN_VERIFY_AT;
		t->at = step->verify_at;
	} else if (step->verify_part) {
		t->part = step->verify_part;
	} else if (!strcmp(step->arg, PLAN_FB_BOOT1)) {
		t->loc = PLAN_VERIFY_BOOT1;
	} else if (!strcmp(step->arg, PLAN_FB_BOOT2)) {
		t->loc = PLAN_VERIFY_BOOT2;
	} else if (!strcmp(step->arg, PLAN_FB_USER)) {
		t->loc = PLAN_VERIFY_AT;
	} else if (!strcmp(step->arg, PLAN_FB_MBR)) {
		t->loc = PLAN_VERIFY_AT;
		t->max_len = 512; /* write_mbr_sector(): one block */
	}
	return 0;
}

bool plan_step_verify_skipped(const struct plan_step *step)
{
	struct plan_verify_target t;

	if (step->op != PLAN_OP_FLASH || step->no_verify || plan_verify_target(step, &t) < 0)
		return true;
	if (step->verify)
		return false;
	return !strcmp(step->arg, PLAN_FB_GPT) || (t.loc == PLAN_VERIFY_PART && !plan_verify_word(t.part));
}

