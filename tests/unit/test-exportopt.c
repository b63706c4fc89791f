/* test-exportopt: flashd-export's options, station id and libpq parameters. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/machine_id.h"

#include "flashctl/exportopt.h"
#include "flashd/conf.h"
#include "flashd/protocol.h"

static int parse(struct exportopt *o, char *err, size_t len, ...)
{
	char *argv[16] = { "flashd-export" };
	int argc = 1;
	va_list ap;

	va_start(ap, len);
	for (char *a; argc < 15 && (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	return exportopt_parse(argc, argv, o, err, len);
}

static void test_defaults(void **state)
{
	struct exportopt o;
	char err[256];

	(void)state;
	unsetenv(PROTOCOL_SOCKET_ENV);
	assert_int_equal(parse(&o, err, sizeof(err), NULL), 0);
	assert_string_equal(o.socket, PROTOCOL_SOCKET_DEFAULT);
	assert_null(o.db);
	assert_null(o.station);
	assert_string_equal(o.machine_id, "/etc/machine-id");
	assert_non_null(strstr(o.config, "/flashd/flashd.conf"));
	assert_false(o.init_schema);
	assert_false(o.once);
	assert_int_equal(o.timeout_s, 10);
	setenv(PROTOCOL_SOCKET_ENV, "/tmp/x.sock", 1);
	assert_int_equal(parse(&o, err, sizeof(err), NULL), 0);
	assert_string_equal(o.socket, "/tmp/x.sock");
	unsetenv(PROTOCOL_SOCKET_ENV);
}

static void test_all(void **state)
{
	struct exportopt o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), "--socket", "/s", "--db",
			       "postgresql://flashd@db.line/results", "--station", "line2.st-4",
			       "--db-timeout", "30", "--init-schema", "--once", "--config", "/c", NULL),
			 0);
	assert_string_equal(o.socket, "/s");
	assert_string_equal(o.db, "postgresql://flashd@db.line/results");
	assert_string_equal(o.station, "line2.st-4");
	assert_int_equal(o.timeout_s, 30);
	assert_string_equal(o.config, "/c");
	assert_true(o.init_schema);
	assert_true(o.once);
	assert_int_equal(parse(&o, err, sizeof(err), "--help", NULL), 1);
}

static void test_errors(void **state)
{
	struct exportopt o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), "--station", "a b", NULL), -EINVAL);
	assert_non_null(strstr(err, "--station: 1 to 64 letters"));
	assert_int_equal(parse(&o, err, sizeof(err), "--db-timeout", "0", NULL), -EINVAL);
	assert_string_equal(err, "--db-timeout: seconds from 1 to 3600, not 0");
	assert_int_equal(parse(&o, err, sizeof(err), "--db-timeout", "5x", NULL), -EINVAL);
	assert_int_equal(parse(&o, err, sizeof(err), "--bogus", NULL), -EINVAL);
	assert_string_equal(err, "unknown option --bogus");
	assert_int_equal(parse(&o, err, sizeof(err), "--db", NULL), -EINVAL);
	assert_string_equal(err, "--db needs a value");
	assert_int_equal(parse(&o, err, sizeof(err), "extra", NULL), -EINVAL);
	assert_string_equal(err, "unexpected argument 'extra'");
	assert_int_equal(parse(&o, err, sizeof(err), "--socket", "", NULL), -EINVAL);
	assert_string_equal(err, "--socket: empty");
}

static void test_station(void **state)
{
	char id[80];

	(void)state;
	assert_true(conf_station_id_valid("a"));
	assert_true(conf_station_id_valid("line-2:st_4.x"));
	assert_false(conf_station_id_valid(""));
	assert_false(conf_station_id_valid(NULL));
	assert_false(conf_station_id_valid("é"));
	assert_false(conf_station_id_valid("a'b"));
	memset(id, 'a', 65);
	id[65] = 0;
	assert_false(conf_station_id_valid(id));
	id[64] = 0;
	assert_true(conf_station_id_valid(id));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_machine_id(void **state)
{
	char path[] = "/tmp/test-exportopt.XXXXXX", id[64];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "0123456789abcdef0123456789abcdef\n");
	assert_int_equal(machine_id_read(path, id, sizeof(id)), 0);
	assert_string_equal(id, "0123456789abcdef0123456789abcdef");
	assert_int_equal(machine_id_read(path, id, 32), -EBADMSG); /* no room */
	write_file(path, "uninitialized\n");
	assert_int_equal(machine_id_read(path, id, sizeof(id)), -EBADMSG);
	write_file(path, "0123456789ABCDEF0123456789abcdef\n");
	assert_int_equal(machine_id_read(path, id, sizeof(id)), -EBADMSG);
	write_file(path, "");
	assert_int_equal(machine_id_read(path, id, sizeof(id)), -EBADMSG);
	unlink(path);
	assert_int_equal(machine_id_read(path, id, sizeof(id)), -ENOENT);
}

/* --station, else station-id of flashd.conf, else the machine id */
static void test_station_order(void **state)
{
	char conf[] = "/tmp/test-exportopt-conf.XXXXXX", mid[] = "/tmp/test-exportopt-mid.XXXXXX";
	char id[CONF_STATION_ID_MAX + 1], err[512];
	struct exportopt o = { .config = conf, .machine_id = mid };
	int fd1 = mkstemp(conf), fd2 = mkstemp(mid);

	(void)state;
	assert_true(fd1 >= 0 && fd2 >= 0);
	close(fd1);
	close(fd2);
	write_file(mid, "0123456789abcdef0123456789abcdef\n");
	write_file(conf, "station-id = line1.st2\n");
	assert_int_equal(exportopt_station(&o, id, sizeof(id), err, sizeof(err)), 0);
	assert_string_equal(id, "line1.st2");
	o.station = "given";
	assert_int_equal(exportopt_station(&o, id, sizeof(id), err, sizeof(err)), 0);
	assert_string_equal(id, "given");
	o.station = NULL;
	write_file(conf, "# no station-id\njournal = /tmp/j\n");
	assert_int_equal(exportopt_station(&o, id, sizeof(id), err, sizeof(err)), 0);
	assert_string_equal(id, "0123456789abcdef0123456789abcdef");
	/* a flashd.conf that is not there says nothing */
	unlink(conf);
	assert_int_equal(exportopt_station(&o, id, sizeof(id), err, sizeof(err)), 0);
	assert_string_equal(id, "0123456789abcdef0123456789abcdef");
	/* a broken one is an error, with its file:line */
	write_file(conf, "station-id = a b\n");
	assert_int_equal(exportopt_station(&o, id, sizeof(id), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":1: station-id: bad station id 'a b'"));
	/* no machine id either */
	write_file(conf, "");
	write_file(mid, "");
	assert_int_equal(exportopt_station(&o, id, sizeof(id), err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, ": not a machine id; give the station's id with --station or "
				    "station-id in"));
	unlink(conf);
	unlink(mid);
}

static const char *value_of(const struct exportopt_conn *c, const char *key)
{
	for (size_t i = 0; c->keys[i]; i++)
		if (!strcmp(c->keys[i], key))
			return c->values[i];
	return NULL;
}

static void test_conn(void **state)
{
	struct exportopt o = { .timeout_s = 7 };
	struct exportopt_conn c;
	size_t n = 0;

	(void)state;
	exportopt_conn_params(&o, &c);
	assert_string_equal(value_of(&c, "connect_timeout"), "7");
	assert_string_equal(value_of(&c, "options"), "-c statement_timeout=7000");
	assert_string_equal(value_of(&c, "keepalives"), "1");
	assert_string_equal(value_of(&c, "application_name"), "flashd-export");
	assert_null(value_of(&c, "dbname")); /* libpq's PG* variables then */
	o.db = "host=/run/postgresql dbname=line connect_timeout=3";
	exportopt_conn_params(&o, &c);
	while (c.keys[n])
		n++;
	assert_true(n < EXPORTOPT_CONN_MAX);
	assert_null(c.values[n]);
	/* the user's CONNINFO last: libpq expands it over the defaults */
	assert_string_equal(c.keys[n - 1], "dbname");
	assert_string_equal(c.values[n - 1], o.db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults), cmocka_unit_test(test_all),
		cmocka_unit_test(test_errors),   cmocka_unit_test(test_station),
		cmocka_unit_test(test_machine_id), cmocka_unit_test(test_station_order),
		cmocka_unit_test(test_conn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
