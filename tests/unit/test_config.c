#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arrears/config.h"

/* The loader reads the whole file at once, so each file is removed right after loading. */
static char tmp_path[64];

static const char *write_cfg(const char *text)
{
    snprintf(tmp_path, sizeof(tmp_path), "/tmp/arr_test_config_XXXXXX");
    int fd = mkstemp(tmp_path);
    cr_assert_geq(fd, 0, "mkstemp failed");
    size_t len = strlen(text);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    return tmp_path;
}

static arr_config *load_text(const char *text)
{
    arr_config *cfg = NULL;
    char err[256] = "";
    arr_err e = arr_config_load(write_cfg(text), &cfg, err, sizeof(err));
    unlink(tmp_path);
    cr_assert_eq(e, ARR_OK, "load failed: %s", err);
    cr_assert_not_null(cfg);
    return cfg;
}

/* Loads text expecting failure; returns the error and the message with the temp path
 * replaced by "F" so expectations can be exact. */
static arr_err load_fail(const char *text, char *msg, size_t msglen)
{
    arr_config *cfg = (arr_config *)0x1;
    char err[256] = "";
    const char *path = write_cfg(text);
    arr_err e = arr_config_load(path, &cfg, err, sizeof(err));
    unlink(path);
    cr_assert_neq(e, ARR_OK, "load of malformed file succeeded");
    cr_expect_eq(cfg, (arr_config *)0x1, "out written on failure");
    size_t plen = strlen(path);
    cr_assert_eq(strncmp(err, path, plen), 0, "message does not start with path: %s", err);
    snprintf(msg, msglen, "F%s", err + plen);
    return e;
}

static void expect_str(const arr_config *cfg, const char *key, const char *want)
{
    const char *v = NULL;
    char err[256] = "";
    cr_assert_eq(arr_config_str(cfg, key, NULL, &v, err, sizeof(err)), ARR_OK, "%s: %s", key, err);
    cr_expect_str_eq(v, want, "%s", key);
}

Test(config, file_basics)
{
    arr_config *cfg = load_text("# a comment\n"
                                "\n"
                                "ARR_A=plain\n"
                                "   ARR_B   =   spaced value   \n"
                                "\t# indented comment\n"
                                "ARR_C=\"double quoted \"\n"
                                "ARR_D=' single quoted'\n"
                                "ARR_E=\n"
                                "ARR_F=a=b=c\n"
                                "ARR_G=it's\n"
                                "ARR_H=\"\"\n"
                                "ARR_I=crlf\r\n"
                                "ARR_J=#not a comment\n"
                                "ARR_K2_X=last line without newline");
    expect_str(cfg, "ARR_A", "plain");
    expect_str(cfg, "ARR_B", "spaced value");
    expect_str(cfg, "ARR_C", "double quoted ");
    expect_str(cfg, "ARR_D", " single quoted");
    expect_str(cfg, "ARR_E", "");
    expect_str(cfg, "ARR_F", "a=b=c");
    expect_str(cfg, "ARR_G", "it's");
    expect_str(cfg, "ARR_H", "");
    expect_str(cfg, "ARR_I", "crlf");
    expect_str(cfg, "ARR_J", "#not a comment");
    expect_str(cfg, "ARR_K2_X", "last line without newline");
    arr_config_free(cfg);
}

Test(config, later_line_wins)
{
    arr_config *cfg = load_text("ARR_X=first\nARR_X=second\n");
    expect_str(cfg, "ARR_X", "second");
    arr_config_free(cfg);
}

Test(config, empty_file)
{
    arr_config *cfg = load_text("");
    const char *v = NULL;
    cr_expect_eq(arr_config_str(cfg, "ARR_NOPE_EMPTY", "dflt", &v, NULL, 0), ARR_OK);
    cr_expect_str_eq(v, "dflt");
    arr_config_free(cfg);
}

Test(config, null_path_is_environment_only)
{
    setenv("ARR_TEST_ENV_ONLY", "from-env", 1);
    arr_config *cfg = NULL;
    char err[128] = "";
    cr_assert_eq(arr_config_load(NULL, &cfg, err, sizeof(err)), ARR_OK, "%s", err);
    expect_str(cfg, "ARR_TEST_ENV_ONLY", "from-env");
    arr_config_free(cfg);
    unsetenv("ARR_TEST_ENV_ONLY");
}

Test(config, missing_file)
{
    arr_config *cfg = NULL;
    char err[256] = "";
    arr_err e = arr_config_load("/nonexistent/arrears/cfg.env", &cfg, err, sizeof(err));
    cr_expect_eq(e, ARR_ENOTFOUND);
    cr_expect_null(cfg);
    cr_expect_not_null(strstr(err, "/nonexistent/arrears/cfg.env"), "%s", err);
}

Test(config, directory_is_an_error)
{
    arr_config *cfg = NULL;
    char err[256] = "";
    arr_err e = arr_config_load("/tmp", &cfg, err, sizeof(err));
    cr_expect_neq(e, ARR_OK);
    cr_expect_null(cfg);
}

Test(config, env_overrides_file)
{
    arr_config *cfg = load_text("ARR_TEST_OVR=file\nARR_TEST_KEEP=file\n");
    setenv("ARR_TEST_OVR", "env", 1);
    expect_str(cfg, "ARR_TEST_OVR", "env");
    expect_str(cfg, "ARR_TEST_KEEP", "file");
    /* read at get time, not snapshotted at load time */
    unsetenv("ARR_TEST_OVR");
    expect_str(cfg, "ARR_TEST_OVR", "file");
    arr_config_free(cfg);
}

Test(config, set_overrides_env_and_file)
{
    arr_config *cfg = load_text("ARR_TEST_SET=file\n");
    setenv("ARR_TEST_SET", "env", 1);
    cr_assert_eq(arr_config_set(cfg, "ARR_TEST_SET", "explicit"), ARR_OK);
    expect_str(cfg, "ARR_TEST_SET", "explicit");
    cr_assert_eq(arr_config_set(cfg, "ARR_TEST_SET", "again"), ARR_OK);
    expect_str(cfg, "ARR_TEST_SET", "again");
    cr_assert_eq(arr_config_set(cfg, "ARR_TEST_NEW", "only-set"), ARR_OK);
    expect_str(cfg, "ARR_TEST_NEW", "only-set");
    unsetenv("ARR_TEST_SET");
    arr_config_free(cfg);
}

Test(config, set_copies_its_arguments)
{
    arr_config *cfg = load_text("");
    char key[] = "ARR_TEST_COPY";
    char value[] = "original";
    cr_assert_eq(arr_config_set(cfg, key, value), ARR_OK);
    strcpy(value, "changed!");
    key[4] = 'X';
    expect_str(cfg, "ARR_TEST_COPY", "original");
    arr_config_free(cfg);
}

Test(config, set_rejects_bad_key)
{
    arr_config *cfg = load_text("");
    cr_expect_eq(arr_config_set(cfg, "lower", "v"), ARR_EINVAL);
    cr_expect_eq(arr_config_set(cfg, "", "v"), ARR_EINVAL);
    cr_expect_eq(arr_config_set(cfg, "ARR-DASH", "v"), ARR_EINVAL);
    cr_expect_eq(arr_config_set(cfg, "ARR_OK_KEY", NULL), ARR_EINVAL);
    cr_expect_eq(arr_config_set(NULL, "ARR_OK_KEY", "v"), ARR_EINVAL);
    arr_config_free(cfg);
}

Test(config, returned_strings_outlive_env_and_set_changes)
{
    arr_config *cfg = load_text("");
    const char *first = NULL, *second = NULL, *third = NULL;
    setenv("ARR_TEST_LIFE", "one", 1);
    cr_assert_eq(arr_config_str(cfg, "ARR_TEST_LIFE", NULL, &first, NULL, 0), ARR_OK);
    setenv("ARR_TEST_LIFE", "two-is-longer", 1);
    cr_assert_eq(arr_config_str(cfg, "ARR_TEST_LIFE", NULL, &second, NULL, 0), ARR_OK);
    unsetenv("ARR_TEST_LIFE");
    cr_assert_eq(arr_config_set(cfg, "ARR_TEST_LIFE", "three"), ARR_OK);
    cr_assert_eq(arr_config_str(cfg, "ARR_TEST_LIFE", NULL, &third, NULL, 0), ARR_OK);
    cr_assert_eq(arr_config_set(cfg, "ARR_TEST_LIFE", "four"), ARR_OK);
    cr_expect_str_eq(first, "one");
    cr_expect_str_eq(second, "two-is-longer");
    cr_expect_str_eq(third, "three");
    arr_config_free(cfg);
}

Test(config, repeated_env_reads_return_same_copy)
{
    arr_config *cfg = load_text("");
    const char *a = NULL, *b = NULL;
    setenv("ARR_TEST_SAME", "v", 1);
    cr_assert_eq(arr_config_str(cfg, "ARR_TEST_SAME", NULL, &a, NULL, 0), ARR_OK);
    cr_assert_eq(arr_config_str(cfg, "ARR_TEST_SAME", NULL, &b, NULL, 0), ARR_OK);
    cr_expect_eq(a, b);
    unsetenv("ARR_TEST_SAME");
    arr_config_free(cfg);
}

Test(config, required_key_message)
{
    arr_config *cfg = load_text("ARR_OTHER=x\n");
    unsetenv("ARR_KAFKA_BROKERS");
    const char *v = (const char *)0x1;
    char err[128] = "";
    cr_expect_eq(arr_config_str(cfg, "ARR_KAFKA_BROKERS", NULL, &v, err, sizeof(err)), ARR_ECONFIG);
    cr_expect_str_eq(err, "ARR_KAFKA_BROKERS is required");
    cr_expect_eq(v, (const char *)0x1, "out written on failure");
    cr_expect_eq(arr_config_str(cfg, "ARR_KAFKA_BROKERS", "localhost:9092", &v, err, sizeof(err)),
                 ARR_OK);
    cr_expect_str_eq(v, "localhost:9092");
    arr_config_free(cfg);
}

Test(config, errbuf_may_be_null_or_tiny)
{
    arr_config *cfg = load_text("");
    const char *v = NULL;
    cr_expect_eq(arr_config_str(cfg, "ARR_NOT_THERE", NULL, &v, NULL, 0), ARR_ECONFIG);
    char tiny[4] = "zzz";
    cr_expect_eq(arr_config_str(cfg, "ARR_NOT_THERE", NULL, &v, tiny, sizeof(tiny)), ARR_ECONFIG);
    cr_expect_str_eq(tiny, "ARR");
    arr_config_free(cfg);
}

Test(config, getter_rejects_bad_arguments)
{
    arr_config *cfg = load_text("");
    const char *v = NULL;
    int b = 0;
    char err[128];
    cr_expect_eq(arr_config_str(cfg, "bad key", NULL, &v, err, sizeof(err)), ARR_EINVAL);
    cr_expect_eq(arr_config_str(cfg, NULL, "d", &v, err, sizeof(err)), ARR_EINVAL);
    cr_expect_eq(arr_config_str(NULL, "ARR_X", "d", &v, err, sizeof(err)), ARR_EINVAL);
    cr_expect_eq(arr_config_int(cfg, "ARR_X", 1, 0, 10, NULL, err, sizeof(err)), ARR_EINVAL);
    cr_expect_eq(arr_config_bool(cfg, "", 1, &b, err, sizeof(err)), ARR_EINVAL);
    arr_config_free(cfg);
}

static arr_err get_int(const char *value, int64_t min, int64_t max, int64_t *out, char *err,
                       size_t errlen)
{
    arr_config *cfg = load_text("");
    cr_assert_eq(arr_config_set(cfg, "ARR_HTTP_PORT", value), ARR_OK);
    arr_err e = arr_config_int(cfg, "ARR_HTTP_PORT", 8080, min, max, out, err, errlen);
    arr_config_free(cfg);
    return e;
}

Test(config, int_valid)
{
    int64_t n = 0;
    char err[128] = "";
    cr_expect_eq(get_int("443", 0, 65535, &n, err, sizeof(err)), ARR_OK, "%s", err);
    cr_expect_eq(n, 443);
    cr_expect_eq(get_int("0", 0, 65535, &n, err, sizeof(err)), ARR_OK);
    cr_expect_eq(n, 0);
    cr_expect_eq(get_int("65535", 0, 65535, &n, err, sizeof(err)), ARR_OK);
    cr_expect_eq(n, 65535);
    cr_expect_eq(get_int("-17", -100, 100, &n, err, sizeof(err)), ARR_OK);
    cr_expect_eq(n, -17);
    cr_expect_eq(get_int("+5", 0, 10, &n, err, sizeof(err)), ARR_OK);
    cr_expect_eq(n, 5);
    cr_expect_eq(get_int("007", 0, 10, &n, err, sizeof(err)), ARR_OK);
    cr_expect_eq(n, 7);
}

Test(config, int_extremes)
{
    int64_t n = 0;
    char err[128] = "";
    cr_expect_eq(get_int("9223372036854775807", INT64_MIN, INT64_MAX, &n, err, sizeof(err)), ARR_OK,
                 "%s", err);
    cr_expect_eq(n, INT64_MAX);
    cr_expect_eq(get_int("-9223372036854775808", INT64_MIN, INT64_MAX, &n, err, sizeof(err)),
                 ARR_OK, "%s", err);
    cr_expect_eq(n, INT64_MIN);
}

Test(config, int_out_of_range_message)
{
    int64_t n = 99;
    char err[128] = "";
    cr_expect_eq(get_int("70000", 0, 65535, &n, err, sizeof(err)), ARR_ECONFIG);
    cr_expect_str_eq(err, "ARR_HTTP_PORT: '70000' is out of range [0, 65535]");
    cr_expect_eq(n, 99, "out written on failure");
    cr_expect_eq(get_int("-1", 0, 65535, &n, err, sizeof(err)), ARR_ECONFIG);
    cr_expect_str_eq(err, "ARR_HTTP_PORT: '-1' is out of range [0, 65535]");
}

Test(config, int_overflow)
{
    int64_t n = 99;
    char err[128] = "";
    cr_expect_eq(get_int("9223372036854775808", INT64_MIN, INT64_MAX, &n, err, sizeof(err)),
                 ARR_ECONFIG);
    cr_expect_not_null(strstr(err, "out of range"), "%s", err);
    cr_expect_eq(get_int("-99999999999999999999", INT64_MIN, INT64_MAX, &n, err, sizeof(err)),
                 ARR_ECONFIG);
    cr_expect_eq(n, 99);
}

Test(config, int_garbage)
{
    static const char *const bad[] = {"12x", "x12", "",  " 12", "12 ", "1 2", "0x10",
                                      "1e3", "+",   "-", "--1", "1.5", "٣"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t n = 99;
        char err[128] = "";
        cr_expect_eq(get_int(bad[i], INT64_MIN, INT64_MAX, &n, err, sizeof(err)), ARR_ECONFIG,
                     "'%s' accepted", bad[i]);
        cr_expect_eq(n, 99);
        cr_expect_not_null(strstr(err, "ARR_HTTP_PORT"), "%s", err);
    }
    char err[128] = "";
    int64_t n = 0;
    get_int("12x", 0, 100, &n, err, sizeof(err));
    cr_expect_str_eq(err, "ARR_HTTP_PORT: '12x' is not an integer");
}

Test(config, int_default_when_absent)
{
    arr_config *cfg = load_text("");
    int64_t n = 0;
    char err[128] = "";
    cr_expect_eq(arr_config_int(cfg, "ARR_NOT_SET_INT", 30, 1, 60, &n, err, sizeof(err)), ARR_OK);
    cr_expect_eq(n, 30);
    /* a default outside its own range is a programming error */
    cr_expect_neq(arr_config_int(cfg, "ARR_NOT_SET_INT", 99, 1, 60, &n, err, sizeof(err)), ARR_OK);
    arr_config_free(cfg);
}

Test(config, int_from_env)
{
    arr_config *cfg = load_text("ARR_TEST_INT=1\n");
    setenv("ARR_TEST_INT", "250", 1);
    int64_t n = 0;
    cr_expect_eq(arr_config_int(cfg, "ARR_TEST_INT", 0, 0, 1000, &n, NULL, 0), ARR_OK);
    cr_expect_eq(n, 250);
    unsetenv("ARR_TEST_INT");
    cr_expect_eq(arr_config_int(cfg, "ARR_TEST_INT", 0, 0, 1000, &n, NULL, 0), ARR_OK);
    cr_expect_eq(n, 1);
    arr_config_free(cfg);
}

Test(config, bool_values)
{
    static const struct {
        const char *text;
        int want;
    } cases[] = {{"true", 1}, {"TRUE", 1}, {"1", 1},     {"yes", 1},   {"Yes", 1},
                 {"on", 1},   {"ON", 1},   {"false", 0}, {"False", 0}, {"0", 0},
                 {"no", 0},   {"NO", 0},   {"off", 0},   {"oFf", 0}};
    arr_config *cfg = load_text("");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(arr_config_set(cfg, "ARR_TEST_BOOL", cases[i].text), ARR_OK);
        int b = -1;
        char err[128] = "";
        cr_expect_eq(arr_config_bool(cfg, "ARR_TEST_BOOL", !cases[i].want, &b, err, sizeof(err)),
                     ARR_OK, "'%s': %s", cases[i].text, err);
        cr_expect_eq(b, cases[i].want, "'%s'", cases[i].text);
    }
    arr_config_free(cfg);
}

Test(config, bool_rejects_garbage)
{
    static const char *const bad[] = {"maybe", "", "2", "tru", "yes ", "y", "-1", "truex"};
    arr_config *cfg = load_text("");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(arr_config_set(cfg, "ARR_TEST_BOOL", bad[i]), ARR_OK);
        int b = 7;
        char err[128] = "";
        cr_expect_eq(arr_config_bool(cfg, "ARR_TEST_BOOL", 1, &b, err, sizeof(err)), ARR_ECONFIG,
                     "'%s' accepted", bad[i]);
        cr_expect_eq(b, 7);
        cr_expect_eq(strncmp(err, "ARR_TEST_BOOL: '", 16), 0, "%s", err);
    }
    arr_config_free(cfg);
}

Test(config, bool_default_and_file)
{
    arr_config *cfg = load_text("ARR_TEST_FLAG = 'off'\n");
    int b = -1;
    cr_expect_eq(arr_config_bool(cfg, "ARR_TEST_FLAG", 1, &b, NULL, 0), ARR_OK);
    cr_expect_eq(b, 0);
    cr_expect_eq(arr_config_bool(cfg, "ARR_TEST_ABSENT_FLAG", 1, &b, NULL, 0), ARR_OK);
    cr_expect_eq(b, 1);
    cr_expect_eq(arr_config_bool(cfg, "ARR_TEST_ABSENT_FLAG", 0, &b, NULL, 0), ARR_OK);
    cr_expect_eq(b, 0);
    arr_config_free(cfg);
}

Test(config, malformed_missing_equals)
{
    char msg[256];
    cr_expect_eq(load_fail("# ok\nARR_A=1\nARR_B secret\n", msg, sizeof(msg)), ARR_ECONFIG);
    cr_expect_str_eq(msg, "F:3: expected KEY=VALUE");
    /* the offending text may be a secret and must not be echoed */
    cr_expect_null(strstr(msg, "secret"));
}

Test(config, malformed_empty_key)
{
    char msg[256];
    cr_expect_eq(load_fail("ARR_A=1\n  =value\n", msg, sizeof(msg)), ARR_ECONFIG);
    cr_expect_str_eq(msg, "F:2: empty key");
}

Test(config, malformed_bad_keys)
{
    static const char *const bad[] = {"arr_lower=1\n", "1ARR=1\n", "ARR-DASH=1\n",
                                      "ARR A=1\n",     "_ARR=1\n", "ARRé=1\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char msg[256];
        char text[64];
        snprintf(text, sizeof(text), "\n\n\n\n%s", bad[i]);
        cr_expect_eq(load_fail(text, msg, sizeof(msg)), ARR_ECONFIG, "%s", bad[i]);
        cr_expect_eq(strncmp(msg, "F:5: invalid key", 16), 0, "%s", msg);
    }
}

Test(config, malformed_quotes)
{
    char msg[256];
    cr_expect_eq(load_fail("ARR_Q=\"open\n", msg, sizeof(msg)), ARR_ECONFIG);
    cr_expect_eq(strncmp(msg, "F:1: ", 5), 0, "%s", msg);
    cr_expect_eq(load_fail("ARR_A=1\nARR_Q=\"mixed'\n", msg, sizeof(msg)), ARR_ECONFIG);
    cr_expect_eq(strncmp(msg, "F:2: ", 5), 0, "%s", msg);
    cr_expect_eq(load_fail("ARR_Q='\n", msg, sizeof(msg)), ARR_ECONFIG);
    cr_expect_eq(strncmp(msg, "F:1: ", 5), 0, "%s", msg);
}

Test(config, overlong_line)
{
    size_t n = 10000;
    char *text = malloc(n + 32);
    cr_assert_not_null(text);
    strcpy(text, "ARR_A=1\nARR_LONG=");
    size_t len = strlen(text);
    memset(text + len, 'v', n);
    strcpy(text + len + n, "\n");
    char msg[256];
    cr_expect_eq(load_fail(text, msg, sizeof(msg)), ARR_ECONFIG);
    cr_expect_eq(strncmp(msg, "F:2: ", 5), 0, "%s", msg);
    free(text);
}

Test(config, oversized_file)
{
    /* many short valid lines: only the total size is wrong */
    size_t total = 2u * 1024 * 1024;
    char *text = malloc(total + 1);
    cr_assert_not_null(text);
    for (size_t i = 0; i + 8 <= total; i += 8)
        memcpy(text + i, "ARR_Z=1\n", 8);
    text[total] = '\0';
    char msg[256];
    cr_expect_neq(load_fail(text, msg, sizeof(msg)), ARR_OK);
    free(text);
}

Test(config, nul_byte_in_file)
{
    const char text[] = "ARR_A=1\nARR_B=x\0y\n";
    snprintf(tmp_path, sizeof(tmp_path), "/tmp/arr_test_config_XXXXXX");
    int fd = mkstemp(tmp_path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
    close(fd);
    arr_config *cfg = NULL;
    char err[256] = "";
    arr_err e = arr_config_load(tmp_path, &cfg, err, sizeof(err));
    unlink(tmp_path);
    cr_expect_eq(e, ARR_ECONFIG);
    cr_expect_null(cfg);
    cr_expect_not_null(strstr(err, ":2: "), "%s", err);
}
