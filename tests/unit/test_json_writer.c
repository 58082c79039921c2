/* json_writer: the three escape styles on the same bytes, separators, the
 * string cut, the time and duration forms, and what overflow leaves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/decimal.h"
#include "util/json_writer.h"

/* One string value written in a style, as the whole output. */
static const char *escaped_as(enum jsonw_escape style, const char *s)
{
	static char buf[256];
	struct jsonw w;
	jsonw_init(&w, buf, sizeof(buf), style);
	jsonw_string(&w, s);
	assert_true(jsonw_finish(&w) > 0);
	return buf;
}

static void test_escape_styles(void **state)
{
	(void)state;
	/* quote, backslash, tab, 0x01, DEL, "é" (UTF-8), a stray 0xff, U+1F600 */
	const char *s = "q\"b\\t\tc\x01"
			"d\x7f"
			"e\xc3\xa9"
			"f\xff"
			"g\xf0\x9f\x98\x80";
	assert_string_equal(escaped_as(JSONW_ESCAPE_BYTES, s),
			    "\"q\\\"b\\\\t\\tc\\u0001d\\u007fe\\\\xc3\\\\xa9f\\\\xffg"
			    "\\\\xf0\\\\x9f\\\\x98\\\\x80\"");
	assert_string_equal(escaped_as(JSONW_ESCAPE_UTF8, s),
			    "\"q\\\"b\\\\t\\tc\\u0001d\\u007fe\\u00e9f\\\\xffg\\ud83d\\ude00\"");
	assert_string_equal(escaped_as(JSONW_ESCAPE_MINIMAL, s),
			    "\"q\\\"b\\\\t\\u0009c\\u0001d\\u007fe\xc3\xa9"
			    "f\xff"
			    "g\xf0\x9f\x98\x80\"");
	/* A UTF-8 sequence cut short is not UTF-8: each byte on its own. */
	assert_string_equal(escaped_as(JSONW_ESCAPE_UTF8, "\xe2\x82"), "\"\\\\xe2\\\\x82\"");
	/* The short forms, and none of them in MINIMAL. */
	assert_string_equal(escaped_as(JSONW_ESCAPE_UTF8, "\b\f\n\r"), "\"\\b\\f\\n\\r\"");
	assert_string_equal(escaped_as(JSONW_ESCAPE_MINIMAL, "\b\f\n\r"),
			    "\"\\u0008\\u000c\\u000a\\u000d\"");
}

static void test_separators_and_values(void **state)
{
	(void)state;
	char buf[256];
	struct jsonw w;
	jsonw_init(&w, buf, sizeof(buf), JSONW_ESCAPE_MINIMAL);
	jsonw_object_begin(&w);
	jsonw_key(&w, "a");
	jsonw_array_begin(&w);
	jsonw_object_begin(&w);
	jsonw_object_end(&w);
	jsonw_null(&w);
	jsonw_string(&w, NULL);
	jsonw_i64(&w, INT64_MIN);
	jsonw_u64(&w, UINT64_MAX);
	jsonw_array_end(&w);
	jsonw_raw_value(&w, "\"m\":1,\"n\":2", 11); /* whole members */
	jsonw_key(&w, "f");
	jsonw_fixed(&w, 0.8755, 3);
	jsonw_key(&w, "b");
	jsonw_bool(&w, false);
	jsonw_object_end(&w);
	assert_int_equal(jsonw_finish(&w), strlen(buf));
	assert_string_equal(buf, "{\"a\":[{},null,null,-9223372036854775808,"
				 "18446744073709551615],\"m\":1,\"n\":2,\"f\":0.875,\"b\":false}");
}

static void test_time_and_ms(void **state)
{
	(void)state;
	char buf[128];
	struct jsonw w;
	jsonw_init(&w, buf, sizeof(buf), JSONW_ESCAPE_MINIMAL);
	jsonw_array_begin(&w);
	jsonw_time(&w, 1796390752101234999LL); /* truncated to the microsecond */
	jsonw_time(&w, -1500000LL);
	jsonw_ms(&w, KG_MSEC(1234) + 567999);
	jsonw_ms(&w, -KG_MSEC(2));
	jsonw_ms(&w, 999);
	jsonw_array_end(&w);
	assert_true(jsonw_finish(&w) > 0);
	assert_string_equal(buf, "[1796390752.101234,-0.001500,1234.567,-2.000,0.000]");
}

static void test_string_cut(void **state)
{
	(void)state;
	char buf[64];
	struct jsonw w;
	/* "a\u00e9" is 7 escaped bytes: a bound of 6 keeps only "a", never half
	 * an escape; 0 keeps nothing. */
	jsonw_init(&w, buf, sizeof(buf), JSONW_ESCAPE_UTF8);
	jsonw_array_begin(&w);
	jsonw_string_max(&w, "a\xc3\xa9", 6);
	jsonw_string_max(&w, "a\xc3\xa9", 7);
	jsonw_string_n(&w, "abc", 2, 0);
	jsonw_string_n(&w, "abc", 2, JSONW_NO_LIMIT);
	jsonw_array_end(&w);
	assert_true(jsonw_finish(&w) > 0);
	assert_string_equal(buf, "[\"a\",\"a\\u00e9\",\"\",\"ab\"]");
}

static void test_overflow(void **state)
{
	(void)state;
	char buf[8];
	struct jsonw w;
	/* What fit stays in buf, NUL-terminated, until jsonw_finish() clears it. */
	jsonw_init(&w, buf, sizeof(buf), JSONW_ESCAPE_MINIMAL);
	jsonw_object_begin(&w);
	jsonw_key(&w, "ab");
	jsonw_string(&w, "too long");
	jsonw_u64(&w, 1); /* fits, but the writer stays failed */
	assert_true(jsonw_overflowed(&w));
	assert_string_equal(buf, "{\"ab\":\""); /* the opening quote fit */
	assert_int_equal(jsonw_finish(&w), 0);
	assert_string_equal(buf, "");

	/* Exactly full: 7 bytes and the NUL. */
	jsonw_init(&w, buf, sizeof(buf), JSONW_ESCAPE_MINIMAL);
	jsonw_string(&w, "abcde");
	assert_false(jsonw_overflowed(&w));
	assert_int_equal(jsonw_finish(&w), 7);

	/* An empty raw value would not be JSON. */
	jsonw_init(&w, buf, sizeof(buf), JSONW_ESCAPE_MINIMAL);
	jsonw_raw_value(&w, "", 0);
	assert_true(jsonw_overflowed(&w));

	jsonw_init(&w, buf, 0, JSONW_ESCAPE_MINIMAL);
	assert_true(jsonw_overflowed(&w));
	assert_int_equal(jsonw_finish(&w), 0);
}

static void test_decimal_parse(void **state)
{
	(void)state;
	uint64_t v = 42;
	assert_true(decimal_parse_u64("0", UINT64_MAX, &v));
	assert_int_equal(v, 0);
	assert_true(decimal_parse_u64("18446744073709551615", UINT64_MAX, &v));
	assert_true(v == UINT64_MAX);
	assert_false(decimal_parse_u64("18446744073709551616", UINT64_MAX, &v));
	assert_true(v == UINT64_MAX); /* untouched on failure */
	assert_true(decimal_parse_u64("100", 100, &v));
	assert_int_equal(v, 100);
	assert_false(decimal_parse_u64("101", 100, &v));
	assert_false(decimal_parse_u64("5", 4, &v));
	assert_false(decimal_parse_u64("", UINT64_MAX, &v));
	assert_false(decimal_parse_u64("+1", UINT64_MAX, &v));
	assert_false(decimal_parse_u64("-1", UINT64_MAX, &v));
	assert_false(decimal_parse_u64(" 1", UINT64_MAX, &v));
	assert_false(decimal_parse_u64("1x", UINT64_MAX, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_styles), cmocka_unit_test(test_separators_and_values),
		cmocka_unit_test(test_time_and_ms),   cmocka_unit_test(test_string_cut),
		cmocka_unit_test(test_overflow),      cmocka_unit_test(test_decimal_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
