/* plan_names: the names of plan operations and protocols — apart from the
 * parser so that code with its own plans (the session tests) uses the same
 * table. */
#include "flashd/plan.h"

#include "common/macro.h"


static const char *const plan_op_names[] = {
	[PLAN_OP_BOOT] = "boot",         [PLAN_OP_DCD] = "dcd",
	[PLAN_OP_WRITE] = "write",       [PLAN_OP_JUMP] = "jump",
	[PLAN_OP_STATUS] = "status",     [PLAN_OP_GETVAR] = "getvar",
	[PLAN_OP_UCMD] = "ucmd",         [PLAN_OP_ACMD] = "acmd",
	[PLAN_OP_OEM] = "oem",           [PLAN_OP_FLASH] = "flash",
	[PLAN_OP_DOWNLOAD] = "download", [PLAN_OP_ERASE] = "erase",
	[PLAN_OP_REBOOT] = "reboot",     [PLAN_OP_CONTINUE] = "continue",
	[PLAN_OP_DELAY] = "delay",       [PLAN_OP_DONE] = "done",
	[PLAN_OP_CFG] = "cfg",
};

static const char *const plan_proto_names[] = {
	[PLAN_PROTO_SDP] = "SDP", [PLAN_PROTO_SDPS] = "SDPS", [PLAN_PROTO_SDPU] = "SDPU",
	[PLAN_PROTO_SDPV] = "SDPV", [PLAN_PROTO_FB] = "FB", [PLAN_PROTO_CFG] = "CFG",
};

const char *plan_op_to_string(enum plan_op op)
{
	return (unsigned)op < ELEMENTSOF(plan_op_names) ? plan_op_names[op] : NULL;
}

const char *plan_proto_to_string(enum plan_proto proto)
{
	return (unsigned)proto < ELEMENTSOF(plan_proto_names) ? plan_proto_names[proto] : NULL;
}
