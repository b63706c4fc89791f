/* control_exec: one request of a control client — parse, permission check,
 * the command table (as tmux's: one function per command), the backend
 * call and its reply, or a reply that comes later (control_pending). */
#include "daemon/control_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/macro.h"
#include "daemon/journal.h"
#include "daemon/worker.h"
#include "flashd/ctlproto.h"

typedef json_t *(*control_exec_fn)(struct control_client *cl, const struct ctlproto_request *req);

static json_t *control_backend_json(const struct ctlproto_request *req,
				    json_t *(*get)(void *ud), void *ud)
{
	if (!get)
		return ctlproto_reply_error_new(req->id, PROTOCOL_ERR_UNAVAILABLE,
						"%s: not supported", req->command->name);
	json_t *f = get(ud);
	if (!json_is_object(f)) {
		json_decref(f);
		return ctlproto_reply_error_new(req->id, PROTOCOL_ERR_INTERNAL,
						"%s: no answer from the station",
						req->command->name);
	}
	return ctlproto_reply_new(req->id, f);
}

static json_t *control_result_id(const json_t *id, int r, const char *err)
{
	if (r >= 0)
		return ctlproto_reply_new(id, NULL);
	return ctlproto_reply_error_new(id, ctlproto_errno_to_code(r), "%s",
					err && *err ? err : strerror(-r));
}

static json_t *control_result(const struct ctlproto_request *req, int r, const char *err)
{
	return control_result_id(req->id, r, err);
}

static struct control_pending *control_pending_new(struct control_client *cl,
						   const struct ctlproto_request *req)
{
	struct control_pending *p = calloc(1, sizeof(*p));

	if (p) {
		p->cl = cl;
		p->id = json_incref(req->id);
	}
	return p;
}

static void control_pending_free(struct control_pending *p)
{
	json_decref(p->id);
	free(p);
}

/* The result of an operation that may answer later: NULL (and
 * cl->pending set) when it kept p. */
static json_t *control_maybe_later(struct control_client *cl, const struct ctlproto_request *req,
				   struct control_pending *p, int r, const char *err)
{
	if (r == CONTROL_PENDING) {
		cl->pending = p;
		return NULL;
	}
	control_pending_free(p);
	return control_result(req, r, err);
}

void control_pending_done(struct control_pending *p, int r, const char *err)
{
	struct control_client *cl;

	if (!p)
		return;
	cl = p->cl;
	if (cl) {
		cl->pending = NULL;
		if (!cl->dead)
			control_client_reply(cl, control_result_id(p->id, r, err));
	}
	control_pending_free(p);
}

static json_t *control_unsupported(const struct ctlproto_request *req)
{
	return ctlproto_reply_error_new(req->id, PROTOCOL_ERR_UNAVAILABLE, "%s: not supported",
					req->command->name);
}

static json_t *control_exec_status(struct control_client *cl, const struct ctlproto_request *req)
{
	return control_backend_json(req, cl->c->be->status, cl->c->be->ud);
}

static json_t *control_exec_stats(struct control_client *cl, const struct ctlproto_request *req)
{
	return control_backend_json(req, cl->c->be->stats, cl->c->be->ud);
}

static json_t *control_exec_plans(struct control_client *cl, const struct ctlproto_request *req)
{
	return control_backend_json(req, cl->c->be->plans, cl->c->be->ud);
}

static json_t *control_exec_pools(struct control_client *cl, const struct ctlproto_request *req)
{
	return control_backend_json(req, cl->c->be->pools, cl->c->be->ud);
}

static json_t *control_exec_watch(struct control_client *cl, const struct ctlproto_request *req)
{
	if (!cl->watching)
		cl->c->n.watchers++;
	cl->watching = true;
	return ctlproto_reply_new(req->id, NULL);
}

/* A history request (docs/design-notes.md "History from an index of the
 * journal, read on a thread"): the page is chosen on the loop from the journal's in-memory
 * index (no I/O), its lines are read, checked and put into the reply's
 * text on the history worker thread; the loop then only queues that text.
 * Until the answer, the client's further requests wait (control_pending). */
struct history_job {
	struct worker_job w; /* first: the worker hands it back */
	struct control_pending *p;
	struct journal_page *page;
	char *id;            /* the request's id, encoded; NULL: none */
	char *line;          /* the reply, encoded with its newline */
	size_t len;
	int r;
};

static void history_run(struct worker_job *w)
{
	struct history_job *job = (struct history_job *)w;
	char *fields = NULL;
	size_t n = 0;

	job->r = journal_page_read(job->page, &fields, &n);
	if (job->r < 0)
		return;
	size_t idlen = job->id ? strlen(job->id) : 0, cap = idlen + n + 32;
	job->line = malloc(cap);
	if (!job->line) {
		job->r = -ENOMEM;
	} else {
		job->len = job->id ? (size_t)sprintf(job->line, "{\"%s\":%s,", PROTOCOL_KEY_ID, job->id)
				   : (size_t)sprintf(job->line, "{");
		job->len += (size_t)sprintf(job->line + job->len, "\"%s\":true,", PROTOCOL_KEY_OK);
		memcpy(job->line + job->len, fields, n);
		job->len += n;
		job->line[job->len++] = '}';
		job->line[job->len++] = '\n';
	}
	free(fields);
}

static void history_job_free(struct history_job *job)
{
	journal_page_free(job->page);
	free(job->id);
	free(job->line);
	free(job);
}

static void history_done(struct worker_job *w, int status)
{
	struct history_job *job = (struct history_job *)w;
	struct control_client *cl = job->p->cl;
	int r = status < 0 ? status : job->r;

	if (r < 0 || !cl || cl->dead) {
		control_pending_done(job->p, r, NULL);
	} else if (!control_replies_have_room(cl, job->len)) {
		control_pending_done(job->p, -EBUSY, "too many bytes of replies wait to be read by "
				     "clients; try again later");
	} else {
		cl->pending = NULL;
		control_client_reply_line(cl, job->line, job->len);
		job->line = NULL;
		control_pending_free(job->p);
	}
	history_job_free(job);
}

static int history_submit(struct control_client *cl, const struct ctlproto_request *req,
			  const struct journal_filter *f, struct control_pending *p)
{
	struct history_job *job;
	int r;

	if (!cl->c->history && (r = worker_new(cl->c->base, &cl->c->history)) < 0)
		return r;
	job = calloc(1, sizeof(*job));
	if (!job)
		return -ENOMEM;
	job->w.run = history_run;
	job->w.done = history_done;
	job->p = p;
	if (req->id && !(job->id = json_dumps(req->id, JSON_ENCODE_ANY | JSON_COMPACT))) {
		history_job_free(job);
		return -ENOMEM;
	}
	r = journal_page_new(cl->c->journal, f, &job->page);
	if (r < 0) {
		history_job_free(job);
		return r;
	}
	worker_submit(cl->c->history, &job->w);
	return CONTROL_PENDING;
}

static json_t *control_exec_history(struct control_client *cl, const struct ctlproto_request *req)
{
	struct journal_filter f = {
		.port = ctlproto_request_string(req, PROTOCOL_ARG_PORT),
		.result = ctlproto_request_string(req, PROTOCOL_ARG_RESULT),
		.limit = PROTOCOL_HISTORY_DEFAULT,
	};
	struct control_pending *p;
	int64_t v;

	if (!cl->c->journal)
		return ctlproto_reply_error_new(req->id, PROTOCOL_ERR_UNAVAILABLE,
						"history: no results journal");
	if (ctlproto_request_int(req, PROTOCOL_ARG_SINCE, &v))
		f.since_ms = v;
	if (ctlproto_request_int(req, PROTOCOL_ARG_LIMIT, &v))
		f.limit = (size_t)v;
	if (ctlproto_request_int(req, PROTOCOL_ARG_BEFORE, &v))
		f.before = (uint64_t)v;
	f.has_after = ctlproto_request_int(req, PROTOCOL_ARG_AFTER, &v);
	if (f.has_after)
		f.after = (uint64_t)v;
	if (f.port && cl->c->be->slot_port && cl->c->be->slot_port(cl->c->be->ud, f.port))
		f.port = cl->c->be->slot_port(cl->c->be->ud, f.port);
	if (!(p = control_pending_new(cl, req)))
		return control_result(req, -ENOMEM, NULL);
	return control_maybe_later(cl, req, p, history_submit(cl, req, &f, p), NULL);
}

static json_t *control_exec_use(struct control_client *cl, const struct ctlproto_request *req)
{
	const struct control_backend *be = cl->c->be;
	const char *ports[PROTOCOL_PORTS_MAX], *args[PROTOCOL_PLAN_ARGS_MAX];
	struct control_pending *p;
	char err[512] = "";

	if (!be->use)
		return control_unsupported(req);
	if (!(p = control_pending_new(cl, req)))
		return control_result(req, -ENOMEM, NULL);
	size_t n = ctlproto_request_strings(req, PROTOCOL_ARG_PORTS, ports, PROTOCOL_PORTS_MAX);
	size_t na = ctlproto_request_strings(req, PROTOCOL_ARG_ARGS, args, PROTOCOL_PLAN_ARGS_MAX);
	int r = be->use(be->ud, ctlproto_request_string(req, PROTOCOL_ARG_PLAN), args, na, ports, n,
			p, err, sizeof(err));
	return control_maybe_later(cl, req, p, r, err);
}

static json_t *control_exec_pause(struct control_client *cl, const struct ctlproto_request *req)
{
	const struct control_backend *be = cl->c->be;
	return be->pause ? control_result(req, be->pause(be->ud), NULL) : control_unsupported(req);
}

static json_t *control_exec_resume(struct control_client *cl, const struct ctlproto_request *req)
{
	const struct control_backend *be = cl->c->be;
	return be->resume ? control_result(req, be->resume(be->ud), NULL)
			  : control_unsupported(req);
}

static json_t *control_exec_port_op(const struct ctlproto_request *req,
				    int (*op)(void *, const char *, char *, size_t), void *ud)
{
	char err[512] = "";
	if (!op)
		return control_unsupported(req);
	int r = op(ud, ctlproto_request_string(req, PROTOCOL_ARG_PORT), err, sizeof(err));
	return control_result(req, r, err);
}

static json_t *control_exec_abort(struct control_client *cl, const struct ctlproto_request *req)
{
	return control_exec_port_op(req, cl->c->be->abort_port, cl->c->be->ud);
}

static json_t *control_exec_retry(struct control_client *cl, const struct ctlproto_request *req)
{
	return control_exec_port_op(req, cl->c->be->retry, cl->c->be->ud);
}

static json_t *control_exec_reload(struct control_client *cl, const struct ctlproto_request *req)
{
	const struct control_backend *be = cl->c->be;
	struct control_pending *p;
	char err[1024] = "";

	if (!be->reload)
		return control_unsupported(req);
	if (!(p = control_pending_new(cl, req)))
		return control_result(req, -ENOMEM, NULL);
	return control_maybe_later(cl, req, p, be->reload(be->ud, p, err, sizeof(err)), err);
}

/* The daemon's half of each command: ctlproto_commands (the wire facts:
 * name, arguments, flags, shared with flashctl) and this table (what runs)
 * are both indexed by enum ctlproto_cmd. A command missing here fails the
 * build (the count) or control_new (the order), never a request. */
static const struct {
	enum ctlproto_cmd cmd;
	control_exec_fn exec;
} control_cmds[] = {
	{ CTLPROTO_CMD_STATUS, control_exec_status },   { CTLPROTO_CMD_WATCH, control_exec_watch },
	{ CTLPROTO_CMD_HISTORY, control_exec_history }, { CTLPROTO_CMD_PLANS, control_exec_plans },
	{ CTLPROTO_CMD_USE, control_exec_use },         { CTLPROTO_CMD_PAUSE, control_exec_pause },
	{ CTLPROTO_CMD_RESUME, control_exec_resume },   { CTLPROTO_CMD_ABORT, control_exec_abort },
	{ CTLPROTO_CMD_RETRY, control_exec_retry },     { CTLPROTO_CMD_RELOAD, control_exec_reload },
	{ CTLPROTO_CMD_STATS, control_exec_stats },     { CTLPROTO_CMD_POOLS, control_exec_pools },
};
_Static_assert(ELEMENTSOF(control_cmds) == CTLPROTO_CMD_COUNT,
	       "control_cmds: one entry per enum ctlproto_cmd");

int control_exec_check(void)
{
	for (size_t i = 0; i < CTLPROTO_CMD_COUNT; i++)
		if (control_cmds[i].cmd != (enum ctlproto_cmd)i || !control_cmds[i].exec ||
		    ctlproto_commands[i].cmd != (enum ctlproto_cmd)i) {
			log_error("control: command table entry %zu (%s) out of order", i,
				  ctlproto_commands[i].name);
			return -EINVAL;
		}
	return 0;
}

void control_exec_request(struct control_client *cl, const char *line, size_t len)
{
	struct ctlproto_request req;
	json_t *reply = NULL;

	if (ctlproto_request_parse(line, len, &req, &reply) < 0) {
		control_client_reply(cl, reply);
		return;
	}
	const struct ctlproto_command *cmd = req.command;
	if ((cmd->flags & CTLPROTO_MUTATING) && !cl->admin) {
		reply = ctlproto_reply_error_new(req.id, PROTOCOL_ERR_PERMISSION_DENIED,
						 "%s: needs root or the admin group", cmd->name);
		log_notice("control: uid %u pid %d: %s refused (not admin)",
			   (unsigned)cl->cred.uid, (int)cl->cred.pid, cmd->name);
	} else {
		if (cmd->flags & CTLPROTO_MUTATING)
			log_info("control: uid %u pid %d: %s", (unsigned)cl->cred.uid,
				 (int)cl->cred.pid, cmd->name);
		reply = control_cmds[cmd->cmd].exec(cl, &req);
	}
	ctlproto_request_clear(&req);
	if (!reply && cl->pending)
		return; /* answered by control_pending_done */
	control_client_reply(cl, reply);
	if (!cl->dead && (cmd->flags & CTLPROTO_STREAM))
		control_client_snapshot(cl);
}
