/* gen-portfolio: a synthetic export of delinquent accounts, the way a utility, telecom or
 * hospital billing system hands it over (CSV, deploy/mappings/gen-portfolio.csv.json) or a
 * newer one streams it (JSON Lines, deploy/mappings/gen-portfolio.jsonl.json). For tests,
 * the demo and benchmarks.
 *
 * Everything comes from --seed through a private generator (splitmix64), never from rand()
 * or the clock: the same arguments give the same bytes on every machine. Row i depends
 * only on (seed, i, options), so a shorter portfolio is a prefix of a longer one, and the
 * CSV and JSONL of one seed describe the same accounts. Memory is constant whatever the
 * number of rows: each row is made, written to a buffer and forgotten.
 *
 * Everything personal is fictional: names are combinations drawn from small tables, e-mail
 * domains are the reserved example.com/.net/.org, phone numbers are NXX-555-01XX.
 *
 * A few rows are broken on purpose (--broken-rate, per mille): no account id, an amount that
 * is not an amount, an impossible due date, an unknown currency, or an exact repeat of an
 * earlier row. A summary of what was written goes to stderr (unless --quiet). */
#include "arrears/hash.h"
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ACCOUNTS 1000000000ULL /* ids stay unique: 10 digits, bijective below 10^10 */
#define HISTORY_DAYS 440           /* oldest issue date: 400 + 30 days before as-of */
#define TEN10 10000000000ULL
#define OUT_CAP (1u << 20)
#define ROW_MAX 4096 /* no row comes near this: every field is bounded */

/* ------------------------------------------------------------------ randomness */

#define GOLDEN 0x9e3779b97f4a7c15ULL


typedef struct rng {
    uint64_t s;
} rng;

/* One independent stream per (seed, purpose, index). */
enum { SALT_ROW = 1, SALT_WHO, SALT_PERSON, SALT_DUP, SALT_IDS };

static rng stream(uint64_t key, uint64_t salt, uint64_t idx)
{
    rng r = {arr_hash_mix64(key ^ arr_hash_mix64(idx * GOLDEN + salt * 0x632be59bd9b4e019ULL))};
    return r;
}

static uint64_t next64(rng *r)
{
    r->s += GOLDEN;
    return arr_hash_mix64(r->s);
}

/* Uniform in [0, n), n <= 2^32 (multiply-shift; the bias is far below anything visible). */
static uint32_t below(rng *r, uint32_t n)
{
    return (uint32_t)(((next64(r) >> 32) * (uint64_t)n) >> 32);
}

static int between(rng *r, int lo, int hi)
{
    return lo + (int)below(r, (uint32_t)(hi - lo + 1));
}

/* 1 with probability per100k / 100000. */
static int chance(rng *r, uint32_t per100k)
{
    return below(r, 100000) < per100k;
}

/* ------------------------------------------------------------------ tables */

#define TZ_E "America/New_York"
#define TZ_C "America/Chicago"
#define TZ_M "America/Denver"
#define TZ_AZ "America/Phoenix"
#define TZ_P "America/Los_Angeles"
#define TZ_AK "America/Anchorage"
#define TZ_HI "Pacific/Honolulu"
#define TZ_DET "America/Detroit"
#define TZ_IND "America/Indiana/Indianapolis"
#define TZ_BOI "America/Boise"

typedef struct city {
    const char *state, *name;
    uint16_t zip3;
    uint8_t weight;
    const char *tz;
    uint16_t area[3]; /* area codes in use there; 0 = none */
} city;

/* Grouped by state. ZIP prefixes and zones follow the real places, including the ones on
 * the far side of a zone line (El Paso, Pensacola, Gary, Evansville, Menominee, Goodland,
 * Scottsbluff, Dickinson, Rapid City, Ontario OR, Coeur d'Alene, the two halves of
 * Tennessee and Kentucky), so zone derivation from the address has something to get right. */
static const city CITIES[] = {
    {"AL", "Birmingham", 352, 4, TZ_C, {205, 659}},
    {"AL", "Montgomery", 361, 3, TZ_C, {334}},
    {"AL", "Mobile", 366, 3, TZ_C, {251}},
    {"AL", "Huntsville", 358, 3, TZ_C, {256, 938}},
    {"AK", "Anchorage", 995, 6, TZ_AK, {907}},
    {"AK", "Fairbanks", 997, 2, TZ_AK, {907}},
    {"AK", "Juneau", 998, 1, TZ_AK, {907}},
    {"AZ", "Phoenix", 850, 8, TZ_AZ, {602, 480, 623}},
    {"AZ", "Tucson", 857, 4, TZ_AZ, {520}},
    {"AZ", "Mesa", 852, 3, TZ_AZ, {480}},
    {"AZ", "Flagstaff", 860, 1, TZ_AZ, {928}},
    {"AR", "Little Rock", 722, 4, TZ_C, {501}},
    {"AR", "Fayetteville", 727, 2, TZ_C, {479}},
    {"AR", "Fort Smith", 729, 2, TZ_C, {479}},
    {"AR", "Jonesboro", 724, 1, TZ_C, {870}},
    {"CA", "Los Angeles", 900, 12, TZ_P, {213, 323, 310}},
    {"CA", "San Diego", 921, 6, TZ_P, {619, 858}},
    {"CA", "San Jose", 951, 4, TZ_P, {408, 669}},
    {"CA", "San Francisco", 941, 4, TZ_P, {415, 628}},
    {"CA", "Fresno", 937, 3, TZ_P, {559}},
    {"CA", "Sacramento", 958, 3, TZ_P, {916, 279}},
    {"CA", "Oakland", 946, 2, TZ_P, {510, 341}},
    {"CA", "Bakersfield", 933, 2, TZ_P, {661}},
    {"CA", "Riverside", 925, 3, TZ_P, {951}},
    {"CO", "Denver", 802, 6, TZ_M, {303, 720}},
    {"CO", "Colorado Springs", 809, 3, TZ_M, {719}},
    {"CO", "Aurora", 800, 2, TZ_M, {303, 720}},
    {"CO", "Fort Collins", 805, 1, TZ_M, {970}},
    {"CO", "Grand Junction", 815, 1, TZ_M, {970}},
    {"CT", "Hartford", 61, 3, TZ_E, {860, 959}},
    {"CT", "New Haven", 65, 3, TZ_E, {203, 475}},
    {"CT", "Bridgeport", 66, 3, TZ_E, {203}},
    {"CT", "Stamford", 69, 2, TZ_E, {203}},
    {"DE", "Wilmington", 198, 3, TZ_E, {302}},
    {"DE", "Dover", 199, 2, TZ_E, {302}},
    {"DC", "Washington", 200, 1, TZ_E, {202, 771}},
    {"FL", "Jacksonville", 322, 4, TZ_E, {904}},
    {"FL", "Miami", 331, 5, TZ_E, {305, 786}},
    {"FL", "Tampa", 336, 4, TZ_E, {813, 656}},
    {"FL", "Orlando", 328, 4, TZ_E, {407, 689}},
    {"FL", "Tallahassee", 323, 2, TZ_E, {850, 448}},
    {"FL", "Pensacola", 325, 1, TZ_C, {850, 448}},
    {"FL", "Fort Lauderdale", 333, 3, TZ_E, {954, 754}},
    {"FL", "St. Petersburg", 337, 2, TZ_E, {727}},
    {"GA", "Atlanta", 303, 8, TZ_E, {404, 678, 470}},
    {"GA", "Augusta", 309, 2, TZ_E, {706, 762}},
    {"GA", "Savannah", 314, 2, TZ_E, {912}},
    {"GA", "Columbus", 318, 2, TZ_E, {706, 762}},
    {"GA", "Macon", 312, 2, TZ_E, {478}},
    {"HI", "Honolulu", 968, 5, TZ_HI, {808}},
    {"HI", "Hilo", 967, 1, TZ_HI, {808}},
    {"ID", "Boise", 837, 4, TZ_BOI, {208, 986}},
    {"ID", "Nampa", 836, 2, TZ_BOI, {208, 986}},
    {"ID", "Idaho Falls", 834, 1, TZ_BOI, {208}},
    {"ID", "Coeur d'Alene", 838, 1, TZ_P, {208}},
    {"IL", "Chicago", 606, 10, TZ_C, {312, 773, 872}},
    {"IL", "Aurora", 605, 2, TZ_C, {630, 331}},
    {"IL", "Rockford", 611, 2, TZ_C, {815, 779}},
    {"IL", "Springfield", 627, 1, TZ_C, {217, 447}},
    {"IL", "Peoria", 616, 1, TZ_C, {309}},
    {"IL", "Naperville", 605, 2, TZ_C, {630, 331}},
    {"IN", "Indianapolis", 462, 5, TZ_IND, {317, 463}},
    {"IN", "Fort Wayne", 468, 2, TZ_IND, {260}},
    {"IN", "Evansville", 477, 1, TZ_C, {812, 930}},
    {"IN", "South Bend", 466, 1, TZ_IND, {574}},
    {"IN", "Gary", 464, 1, TZ_C, {219}},
    {"IA", "Des Moines", 503, 4, TZ_C, {515}},
    {"IA", "Cedar Rapids", 524, 2, TZ_C, {319}},
    {"IA", "Davenport", 528, 2, TZ_C, {563}},
    {"IA", "Sioux City", 511, 1, TZ_C, {712}},
    {"KS", "Wichita", 672, 4, TZ_C, {316}},
    {"KS", "Kansas City", 661, 3, TZ_C, {913}},
    {"KS", "Topeka", 666, 2, TZ_C, {785}},
    {"KS", "Overland Park", 662, 3, TZ_C, {913}},
    {"KS", "Goodland", 677, 1, TZ_M, {785}},
    {"KY", "Louisville", 402, 5, TZ_E, {502}},
    {"KY", "Lexington", 405, 3, TZ_E, {859}},
    {"KY", "Bowling Green", 421, 1, TZ_C, {270, 364}},
    {"KY", "Paducah", 420, 1, TZ_C, {270, 364}},
    {"LA", "New Orleans", 701, 4, TZ_C, {504}},
    {"LA", "Baton Rouge", 708, 3, TZ_C, {225}},
    {"LA", "Shreveport", 711, 2, TZ_C, {318}},
    {"LA", "Lafayette", 705, 2, TZ_C, {337}},
    {"ME", "Portland", 41, 3, TZ_E, {207}},
    {"ME", "Bangor", 44, 2, TZ_E, {207}},
    {"ME", "Lewiston", 42, 1, TZ_E, {207}},
    {"MD", "Baltimore", 212, 5, TZ_E, {410, 443, 667}},
    {"MD", "Silver Spring", 209, 3, TZ_E, {301, 240}},
    {"MD", "Frederick", 217, 2, TZ_E, {301, 240}},
    {"MD", "Annapolis", 214, 1, TZ_E, {410, 443}},
    {"MA", "Boston", 21, 6, TZ_E, {617, 857}},
    {"MA", "Worcester", 16, 3, TZ_E, {508, 774}},
    {"MA", "Springfield", 11, 2, TZ_E, {413}},
    {"MA", "Lowell", 18, 2, TZ_E, {978, 351}},
    {"MA", "Cambridge", 21, 2, TZ_E, {617, 857}},
    {"MI", "Detroit", 482, 6, TZ_DET, {313}},
    {"MI", "Grand Rapids", 495, 3, TZ_DET, {616}},
    {"MI", "Lansing", 489, 2, TZ_DET, {517}},
    {"MI", "Ann Arbor", 481, 2, TZ_DET, {734}},
    {"MI", "Flint", 485, 2, TZ_DET, {810}},
    {"MI", "Menominee", 498, 1, TZ_C, {906}},
    {"MN", "Minneapolis", 554, 5, TZ_C, {612}},
    {"MN", "St. Paul", 551, 3, TZ_C, {651}},
    {"MN", "Rochester", 559, 1, TZ_C, {507}},
    {"MN", "Duluth", 558, 1, TZ_C, {218}},
    {"MS", "Jackson", 392, 3, TZ_C, {601, 769}},
    {"MS", "Gulfport", 395, 2, TZ_C, {228}},
    {"MS", "Hattiesburg", 394, 1, TZ_C, {601, 769}},
    {"MS", "Tupelo", 388, 1, TZ_C, {662}},
    {"MO", "Kansas City", 641, 4, TZ_C, {816}},
    {"MO", "St. Louis", 631, 5, TZ_C, {314, 557}},
    {"MO", "Springfield", 658, 2, TZ_C, {417}},
    {"MO", "Columbia", 652, 1, TZ_C, {573}},
    {"MT", "Billings", 591, 2, TZ_M, {406}},
    {"MT", "Missoula", 598, 2, TZ_M, {406}},
    {"MT", "Great Falls", 594, 1, TZ_M, {406}},
    {"MT", "Helena", 596, 1, TZ_M, {406}},
    {"NE", "Omaha", 681, 4, TZ_C, {402, 531}},
    {"NE", "Lincoln", 685, 3, TZ_C, {402, 531}},
    {"NE", "Grand Island", 688, 1, TZ_C, {308}},
    {"NE", "Scottsbluff", 693, 1, TZ_M, {308}},
    {"NV", "Las Vegas", 891, 6, TZ_P, {702, 725}},
    {"NV", "Henderson", 890, 2, TZ_P, {702, 725}},
    {"NV", "Reno", 895, 2, TZ_P, {775}},
    {"NV", "Carson City", 897, 1, TZ_P, {775}},
    {"NH", "Manchester", 31, 3, TZ_E, {603}},
    {"NH", "Nashua", 30, 2, TZ_E, {603}},
    {"NH", "Concord", 33, 1, TZ_E, {603}},
    {"NJ", "Newark", 71, 3, TZ_E, {973, 862}},
    {"NJ", "Jersey City", 73, 3, TZ_E, {201, 551}},
    {"NJ", "Paterson", 75, 2, TZ_E, {973, 862}},
    {"NJ", "Trenton", 86, 2, TZ_E, {609, 640}},
    {"NJ", "Camden", 81, 2, TZ_E, {856}},
    {"NJ", "Edison", 88, 2, TZ_E, {732, 848}},
    {"NM", "Albuquerque", 871, 4, TZ_M, {505}},
    {"NM", "Las Cruces", 880, 2, TZ_M, {575}},
    {"NM", "Santa Fe", 875, 1, TZ_M, {505}},
    {"NY", "New York", 100, 8, TZ_E, {212, 646, 917}},
    {"NY", "Brooklyn", 112, 8, TZ_E, {718, 347, 929}},
    {"NY", "Bronx", 104, 4, TZ_E, {718, 347}},
    {"NY", "Buffalo", 142, 3, TZ_E, {716}},
    {"NY", "Rochester", 146, 2, TZ_E, {585}},
    {"NY", "Syracuse", 132, 2, TZ_E, {315, 680}},
    {"NY", "Albany", 122, 2, TZ_E, {518, 838}},
    {"NY", "Yonkers", 107, 2, TZ_E, {914}},
    {"NC", "Charlotte", 282, 5, TZ_E, {704, 980}},
    {"NC", "Raleigh", 276, 4, TZ_E, {919, 984}},
    {"NC", "Greensboro", 274, 2, TZ_E, {336, 743}},
    {"NC", "Durham", 277, 2, TZ_E, {919, 984}},
    {"NC", "Winston-Salem", 271, 2, TZ_E, {336, 743}},
    {"NC", "Asheville", 288, 1, TZ_E, {828}},
    {"ND", "Fargo", 581, 3, TZ_C, {701}},
    {"ND", "Bismarck", 585, 2, TZ_C, {701}},
    {"ND", "Grand Forks", 582, 1, TZ_C, {701}},
    {"ND", "Minot", 587, 1, TZ_C, {701}},
    {"ND", "Dickinson", 586, 1, TZ_M, {701}},
    {"OH", "Columbus", 432, 5, TZ_E, {614, 380}},
    {"OH", "Cleveland", 441, 4, TZ_E, {216}},
    {"OH", "Cincinnati", 452, 4, TZ_E, {513}},
    {"OH", "Toledo", 436, 2, TZ_E, {419, 567}},
    {"OH", "Akron", 443, 2, TZ_E, {330, 234}},
    {"OH", "Dayton", 454, 2, TZ_E, {937}},
    {"OK", "Oklahoma City", 731, 5, TZ_C, {405}},
    {"OK", "Tulsa", 741, 4, TZ_C, {918, 539}},
    {"OK", "Norman", 730, 1, TZ_C, {405}},
    {"OK", "Lawton", 735, 1, TZ_C, {580}},
    {"OR", "Portland", 972, 6, TZ_P, {503, 971}},
    {"OR", "Salem", 973, 2, TZ_P, {503, 971}},
    {"OR", "Eugene", 974, 2, TZ_P, {541, 458}},
    {"OR", "Bend", 977, 1, TZ_P, {541, 458}},
    {"OR", "Ontario", 979, 1, TZ_BOI, {541, 458}},
    {"PA", "Philadelphia", 191, 7, TZ_E, {215, 267, 445}},
    {"PA", "Pittsburgh", 152, 4, TZ_E, {412, 878}},
    {"PA", "Allentown", 181, 2, TZ_E, {610, 484}},
    {"PA", "Erie", 165, 1, TZ_E, {814}},
    {"PA", "Harrisburg", 171, 2, TZ_E, {717, 223}},
    {"PA", "Scranton", 185, 1, TZ_E, {570, 272}},
    {"RI", "Providence", 29, 3, TZ_E, {401}},
    {"RI", "Warwick", 28, 2, TZ_E, {401}},
    {"RI", "Cranston", 29, 1, TZ_E, {401}},
    {"SC", "Columbia", 292, 3, TZ_E, {803, 839}},
    {"SC", "Charleston", 294, 3, TZ_E, {843, 854}},
    {"SC", "Greenville", 296, 3, TZ_E, {864}},
    {"SC", "Myrtle Beach", 295, 1, TZ_E, {843, 854}},
    {"SD", "Sioux Falls", 571, 3, TZ_C, {605}},
    {"SD", "Rapid City", 577, 2, TZ_M, {605}},
    {"SD", "Aberdeen", 574, 1, TZ_C, {605}},
    {"TN", "Nashville", 372, 5, TZ_C, {615, 629}},
    {"TN", "Memphis", 381, 4, TZ_C, {901}},
    {"TN", "Knoxville", 379, 3, TZ_E, {865}},
    {"TN", "Chattanooga", 374, 2, TZ_E, {423}},
    {"TN", "Clarksville", 370, 1, TZ_C, {931}},
    {"TX", "Houston", 770, 10, TZ_C, {713, 832, 281}},
    {"TX", "Dallas", 752, 7, TZ_C, {214, 469, 972}},
    {"TX", "San Antonio", 782, 6, TZ_C, {210, 726}},
    {"TX", "Austin", 787, 5, TZ_C, {512, 737}},
    {"TX", "Fort Worth", 761, 4, TZ_C, {817, 682}},
    {"TX", "El Paso", 799, 3, TZ_M, {915}},
    {"TX", "Arlington", 760, 2, TZ_C, {817, 682}},
    {"TX", "Corpus Christi", 784, 2, TZ_C, {361}},
    {"TX", "Lubbock", 794, 1, TZ_C, {806}},
    {"UT", "Salt Lake City", 841, 4, TZ_M, {801, 385}},
    {"UT", "Provo", 846, 2, TZ_M, {801, 385}},
    {"UT", "Ogden", 844, 2, TZ_M, {801, 385}},
    {"UT", "St. George", 847, 1, TZ_M, {435}},
    {"VT", "Burlington", 54, 3, TZ_E, {802}},
    {"VT", "Montpelier", 56, 1, TZ_E, {802}},
    {"VT", "Rutland", 57, 1, TZ_E, {802}},
    {"VA", "Virginia Beach", 234, 4, TZ_E, {757, 948}},
    {"VA", "Norfolk", 235, 3, TZ_E, {757, 948}},
    {"VA", "Richmond", 232, 4, TZ_E, {804}},
    {"VA", "Arlington", 222, 3, TZ_E, {703, 571}},
    {"VA", "Roanoke", 240, 2, TZ_E, {540}},
    {"VA", "Chesapeake", 233, 2, TZ_E, {757, 948}},
    {"WA", "Seattle", 981, 6, TZ_P, {206, 564}},
    {"WA", "Spokane", 992, 3, TZ_P, {509}},
    {"WA", "Tacoma", 984, 3, TZ_P, {253}},
    {"WA", "Vancouver", 986, 2, TZ_P, {360, 564}},
    {"WA", "Bellevue", 980, 2, TZ_P, {425}},
    {"WV", "Charleston", 253, 3, TZ_E, {304, 681}},
    {"WV", "Huntington", 257, 2, TZ_E, {304, 681}},
    {"WV", "Morgantown", 265, 2, TZ_E, {304, 681}},
    {"WV", "Parkersburg", 261, 1, TZ_E, {304, 681}},
    {"WI", "Milwaukee", 532, 5, TZ_C, {414}},
    {"WI", "Madison", 537, 3, TZ_C, {608}},
    {"WI", "Green Bay", 543, 2, TZ_C, {920}},
    {"WI", "Kenosha", 531, 1, TZ_C, {262}},
    {"WY", "Cheyenne", 820, 2, TZ_M, {307}},
    {"WY", "Casper", 826, 2, TZ_M, {307}},
    {"WY", "Laramie", 820, 1, TZ_M, {307}},
};
#define N_CITIES (sizeof(CITIES) / sizeof(CITIES[0]))

typedef struct state_info {
    const char *code;
    uint32_t pop_k; /* 2020 census, thousands: debtors are spread by population */
    uint16_t es_pm; /* per mille of debtors who prefer Spanish */
    /* filled at start: this state's run of CITIES */
    uint16_t first, count;
    uint32_t weight;
} state_info;

static state_info STATES[] = {
    {"CA", 39538, 250, 0, 0, 0}, {"TX", 29146, 250, 0, 0, 0}, {"FL", 21538, 250, 0, 0, 0},
    {"NY", 20201, 120, 0, 0, 0}, {"PA", 13003, 70, 0, 0, 0},  {"IL", 12813, 120, 0, 0, 0},
    {"OH", 11799, 70, 0, 0, 0},  {"GA", 10712, 70, 0, 0, 0},  {"NC", 10439, 70, 0, 0, 0},
    {"MI", 10077, 70, 0, 0, 0},  {"NJ", 9289, 120, 0, 0, 0},  {"VA", 8631, 70, 0, 0, 0},
    {"WA", 7705, 70, 0, 0, 0},   {"AZ", 7152, 250, 0, 0, 0},  {"MA", 7030, 70, 0, 0, 0},
    {"TN", 6911, 70, 0, 0, 0},   {"IN", 6786, 70, 0, 0, 0},   {"MD", 6177, 70, 0, 0, 0},
    {"MO", 6155, 70, 0, 0, 0},   {"WI", 5894, 70, 0, 0, 0},   {"CO", 5774, 120, 0, 0, 0},
    {"MN", 5706, 70, 0, 0, 0},   {"SC", 5119, 70, 0, 0, 0},   {"AL", 5024, 70, 0, 0, 0},
    {"LA", 4658, 70, 0, 0, 0},   {"KY", 4506, 70, 0, 0, 0},   {"OR", 4237, 70, 0, 0, 0},
    {"OK", 3959, 70, 0, 0, 0},   {"CT", 3606, 70, 0, 0, 0},   {"UT", 3272, 70, 0, 0, 0},
    {"IA", 3190, 70, 0, 0, 0},   {"NV", 3105, 250, 0, 0, 0},  {"AR", 3012, 70, 0, 0, 0},
    {"MS", 2961, 70, 0, 0, 0},   {"KS", 2938, 70, 0, 0, 0},   {"NM", 2118, 250, 0, 0, 0},
    {"NE", 1962, 70, 0, 0, 0},   {"ID", 1839, 70, 0, 0, 0},   {"WV", 1794, 70, 0, 0, 0},
    {"HI", 1455, 70, 0, 0, 0},   {"NH", 1378, 70, 0, 0, 0},   {"ME", 1362, 70, 0, 0, 0},
    {"RI", 1097, 70, 0, 0, 0},   {"MT", 1084, 70, 0, 0, 0},   {"DE", 990, 70, 0, 0, 0},
    {"SD", 887, 70, 0, 0, 0},    {"ND", 779, 70, 0, 0, 0},    {"AK", 733, 70, 0, 0, 0},
    {"DC", 690, 70, 0, 0, 0},    {"VT", 643, 70, 0, 0, 0},    {"WY", 577, 70, 0, 0, 0},
};
#define N_STATES (sizeof(STATES) / sizeof(STATES[0]))
static uint32_t STATE_TOTAL;

typedef struct name {
    const char *text;
    const char *ascii; /* for e-mail addresses; NULL: text is plain ASCII letters */
} name;

static const name FIRST_EN[] = {
    {"James", 0},
    {"Mary", 0},
    {"Robert", 0},
    {"Patricia", 0},
    {"John", 0},
    {"Jennifer", 0},
    {"Michael", 0},
    {"Linda", 0},
    {"David", 0},
    {"Elizabeth", 0},
    {"William", 0},
    {"Barbara", 0},
    {"Richard", 0},
    {"Susan", 0},
    {"Joseph", 0},
    {"Jessica", 0},
    {"Thomas", 0},
    {"Sarah", 0},
    {"Christopher", 0},
    {"Karen", 0},
    {"Charles", 0},
    {"Lisa", 0},
    {"Daniel", 0},
    {"Nancy", 0},
    {"Matthew", 0},
    {"Betty", 0},
    {"Anthony", 0},
    {"Sandra", 0},
    {"Mark", 0},
    {"Margaret", 0},
    {"Donald", 0},
    {"Ashley", 0},
    {"Steven", 0},
    {"Kimberly", 0},
    {"Andrew", 0},
    {"Emily", 0},
    {"Paul", 0},
    {"Donna", 0},
    {"Joshua", 0},
    {"Michelle", 0},
    {"Kenneth", 0},
    {"Carol", 0},
    {"Kevin", 0},
    {"Amanda", 0},
    {"Brian", 0},
    {"Melissa", 0},
    {"George", 0},
    {"Deborah", 0},
    {"Timothy", 0},
    {"Stephanie", 0},
    {"Ronald", 0},
    {"Rebecca", 0},
    {"Jason", 0},
    {"Sharon", 0},
    {"Edward", 0},
    {"Laura", 0},
    {"Jeffrey", 0},
    {"Cynthia", 0},
    {"Ryan", 0},
    {"Amy", 0},
    {"Tyrone", 0},
    {"Latoya", 0},
    {"DeShawn", "deshawn"},
    {"Aaliyah", 0},
    {"Wei", 0},
    {"Mei", 0},
    {"Priya", 0},
    {"Raj", 0},
    {"Ahmed", 0},
    {"Fatima", 0},
    {"Olga", 0},
    {"Dmitri", 0},
    {"Siobhan", 0},
    {"Connor", 0},
    {"Mary Ann", "maryann"},
    {"Jo-Ellen", "joellen"},
};
static const name FIRST_ES[] = {
    {"José", "jose"},
    {"María", "maria"},
    {"Juan", 0},
    {"Luis", 0},
    {"Carlos", 0},
    {"Jorge", 0},
    {"Ana", 0},
    {"Rosa", 0},
    {"Guadalupe", 0},
    {"Miguel", 0},
    {"Alejandro", 0},
    {"Sofía", "sofia"},
    {"Valentina", 0},
    {"Diego", 0},
    {"Andrés", "andres"},
    {"Lucía", "lucia"},
    {"Ramón", "ramon"},
    {"Inés", "ines"},
    {"Francisco", 0},
    {"Isabel", 0},
    {"Elena", 0},
    {"Héctor", "hector"},
    {"Raúl", "raul"},
    {"Mónica", "monica"},
    {"Verónica", "veronica"},
    {"Jesús", "jesus"},
    {"Camila", 0},
    {"Mateo", 0},
    {"Ximena", 0},
    {"Santiago", 0},
};
static const name LAST_EN[] = {
    {"Smith", 0},
    {"Johnson", 0},
    {"Williams", 0},
    {"Brown", 0},
    {"Jones", 0},
    {"Miller", 0},
    {"Davis", 0},
    {"Wilson", 0},
    {"Anderson", 0},
    {"Taylor", 0},
    {"Thomas", 0},
    {"Moore", 0},
    {"Jackson", 0},
    {"Martin", 0},
    {"Lee", 0},
    {"Thompson", 0},
    {"White", 0},
    {"Harris", 0},
    {"Clark", 0},
    {"Lewis", 0},
    {"Robinson", 0},
    {"Walker", 0},
    {"Young", 0},
    {"Allen", 0},
    {"King", 0},
    {"Wright", 0},
    {"Scott", 0},
    {"Hill", 0},
    {"Green", 0},
    {"Adams", 0},
    {"Baker", 0},
    {"Nelson", 0},
    {"Carter", 0},
    {"Mitchell", 0},
    {"Roberts", 0},
    {"Turner", 0},
    {"Phillips", 0},
    {"Campbell", 0},
    {"Parker", 0},
    {"Evans", 0},
    {"Edwards", 0},
    {"Collins", 0},
    {"Stewart", 0},
    {"Morris", 0},
    {"Murphy", 0},
    {"Cook", 0},
    {"Rogers", 0},
    {"Morgan", 0},
    {"Cooper", 0},
    {"Peterson", 0},
    {"Reed", 0},
    {"Bailey", 0},
    {"Bell", 0},
    {"Kelly", 0},
    {"Howard", 0},
    {"Ward", 0},
    {"Cox", 0},
    {"Richardson", 0},
    {"Wood", 0},
    {"Watson", 0},
    {"Brooks", 0},
    {"Bennett", 0},
    {"Gray", 0},
    {"Hughes", 0},
    {"Price", 0},
    {"Sanders", 0},
    {"Myers", 0},
    {"Long", 0},
    {"Ross", 0},
    {"Foster", 0},
    {"O'Brien", "obrien"},
    {"O'Connor", "oconnor"},
    {"D'Angelo", "dangelo"},
    {"McDonald", 0},
    {"Nguyen", 0},
    {"Tran", 0},
    {"Kim", 0},
    {"Patel", 0},
    {"Chen", 0},
    {"Wang", 0},
    {"Singh", 0},
    {"Kowalski", 0},
    {"Novak", 0},
    {"Schmidt", 0},
    {"Johansson", 0},
    {"Smith-Jones", "smithjones"},
    {"Van Buren", "vanburen"},
};
static const name LAST_ES[] = {
    {"García", "garcia"},
    {"Rodríguez", "rodriguez"},
    {"Martínez", "martinez"},
    {"Hernández", "hernandez"},
    {"López", "lopez"},
    {"González", "gonzalez"},
    {"Pérez", "perez"},
    {"Sánchez", "sanchez"},
    {"Ramírez", "ramirez"},
    {"Torres", 0},
    {"Flores", 0},
    {"Rivera", 0},
    {"Gómez", "gomez"},
    {"Díaz", "diaz"},
    {"Cruz", 0},
    {"Morales", 0},
    {"Reyes", 0},
    {"Gutiérrez", "gutierrez"},
    {"Ortiz", 0},
    {"Chávez", "chavez"},
    {"Ramos", 0},
    {"Ruiz", 0},
    {"Mendoza", 0},
    {"Álvarez", "alvarez"},
    {"Castillo", 0},
    {"Jiménez", "jimenez"},
    {"Vásquez", "vasquez"},
    {"Muñoz", "munoz"},
    {"Peña", "pena"},
    {"De la Cruz", "delacruz"},
};
#define COUNT(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

static const char *const STREETS[] = {
    "Oak",
    "Maple",
    "Pine",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Main",
    "Church",
    "Walnut",
    "Sunset",
    "Highland",
    "Meadow",
    "Ridge",
    "River",
    "Spring",
    "Willow",
    "Lincoln",
    "Jefferson",
    "Madison",
    "Franklin",
    "Chestnut",
    "Cherry",
    "Forest",
    "Jackson",
    "Magnolia",
    "Dogwood",
    "Mill",
    "Center",
    "Mesa Verde",
    "Los Robles",
    "Bayview",
    "Prairie",
    "Harbor",
    "Canyon",
    "Orchard",
    "Birch",
    "Aspen",
    "Martin Luther King Jr",
    "Saint Andrews",
    "Old Mill",
    "Cottonwood",
    "Palmetto",
};
static const char *const SUFFIXES[] = {"St", "Ave", "Rd", "Blvd", "Dr",  "Ln",
                                       "Ct", "Way", "Pl", "Pkwy", "Ter", "Cir"};
static const char *const DIRS[] = {"N", "S", "E", "W"};
static const char *const DOMAINS[] = {"example.com",      "example.net", "example.org",
                                      "mail.example.com", "example.com", "example.net",
                                      "inbox.example.org"};

/* Balance shapes: piecewise-linear inverse distribution. p is the cumulative share in
 * millionths, cents the amount at that point: a lognormal-like body with a long tail. */
typedef struct qpt {
    uint32_t p;
    int64_t cents;
} qpt;

static const qpt AMOUNTS_UTILITY[] = {
    {0, 500},          {100000, 2800},     {200000, 4500},   {300000, 6500},   {400000, 9000},
    {500000, 12000},   {600000, 16000},    {700000, 21500},  {800000, 32000},  {870000, 50000},
    {920000, 75000},   {950000, 110000},   {975000, 180000}, {990000, 320000}, {997000, 650000},
    {999500, 1200000}, {1000000, 2000000},
};
static const qpt AMOUNTS_TELECOM[] = {
    {0, 1000},        {100000, 2500},   {200000, 3800},   {300000, 5000},
    {400000, 6500},   {500000, 8500},   {600000, 11000},  {700000, 14500},
    {800000, 20000},  {900000, 32000},  {940000, 50000},  {970000, 80000},
    {990000, 150000}, {998000, 350000}, {999700, 800000}, {1000000, 2000000},
};
static const qpt AMOUNTS_HOSPITAL[] = {
    {0, 1500},        {100000, 5000},   {200000, 9000},    {300000, 14000},
    {400000, 20000},  {500000, 28000},  {600000, 38000},   {680000, 50000},
    {750000, 70000},  {820000, 100000}, {880000, 150000},  {930000, 250000},
    {960000, 400000}, {985000, 700000}, {995000, 1200000}, {1000000, 2000000},
};

/* ------------------------------------------------------------------ the generator */

enum { FMT_CSV, FMT_JSONL };
enum { STYLE_UTILITY, STYLE_TELECOM, STYLE_HOSPITAL };
enum { BROKEN_NONE, BROKEN_NO_ID, BROKEN_AMOUNT, BROKEN_DATE, BROKEN_CURRENCY, BROKEN_DUP };
#define BROKEN_KINDS 5

static const char *const STYLE_NAMES[] = {"utility", "telecom", "hospital"};
static const char *const BROKEN_NAMES[] = {"none",     "missing_id",   "bad_amount",
                                           "bad_date", "bad_currency", "duplicate"};
static const char *const BAD_AMOUNTS[] = {"12.345", "abc", "12.3.4", "1,234.56", ""};
static const char *const BAD_DATES_CSV[] = {"13/45/2026", "02/30/2026", "2026-13-45", "00/10/2026"};
static const char *const BAD_DATES_ISO[] = {"2026-13-45", "2026-02-30", "2026-00-10", "10/13/2026"};

typedef struct gen {
    uint64_t key;
    uint64_t accounts;
    int format, style;
    uint32_t broken_pm;
    uint64_t acct_off, cust_off, inv_off;
    char day_us[HISTORY_DAYS + 1][11];  /* MM/DD/YYYY, index = days before as-of */
    char day_iso[HISTORY_DAYS + 1][11]; /* YYYY-MM-DD */
} gen;

typedef struct phone {
    char text[32];
    const char *type;
    int present, sms, voice;
} phone;

typedef struct acct {
    int broken;
    char account_id[16];
    char debtor_ref[16];
    const char *first, *last;
    char email[2][96];
    phone ph[2];
    char line1[80], line2[48], zip[12];
    const city *where;
    const char *country, *tz, *lang;
    const char *service;
    char invoice[20];
    int issue_ago, due_ago;
    int bad_date; /* -1, or the index of the impossible date written instead of the due date */
    int64_t original, balance;
    const char *bad_amount; /* written instead of the balance, or NULL */
    const char *currency, *regime;
    int tenure, autopay, prior, pay12; /* -1: not given */
    int cycle;
} acct;

static char *put_s(char *d, const char *s)
{
    while (*s)
        *d++ = *s++;
    return d;
}

static char *put_lower(char *d, const char *s)
{
    for (; *s; s++)
        *d++ = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s;
    return d;
}

/* Decimal, zero-padded to width. */
static char *put_u(char *d, uint64_t v, int width)
{
    char t[24];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        t[n++] = '0';
    while (n)
        *d++ = t[--n];
    return d;
}

static char *put_cents(char *d, int64_t c)
{
    uint64_t m = c < 0 ? (uint64_t)(-c) : (uint64_t)c;
    if (c < 0)
        *d++ = '-';
    d = put_u(d, m / 100, 1);
    *d++ = '.';
    return put_u(d, m % 100, 2);
}

/* A bijection of [0, 10^10): two rounds of an affine map (the multiplier is odd and not a
 * multiple of 5, so it is invertible) around a swap of the two 5-digit halves, so ids look
 * scattered in every digit yet never collide. */
static uint64_t scatter(uint64_t x, uint64_t mul, uint64_t off)
{
    for (int round = 0; round < 2; round++) {
        x = (x % TEN10 * mul % TEN10 + off) % TEN10;
        x = x % 100000 * 100000 + x / 100000;
    }
    return x;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

static int parse_ymd(const char *s, int *y, int *m, int *d)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    }
    *y = atoi(s);
    *m = atoi(s + 5);
    *d = atoi(s + 8);
    if (*y < 1902 || *y > 2999 || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
        return -1;
    return 0;
}

static void fill_days(gen *g, int y, int m, int d)
{
    for (int k = 0; k <= HISTORY_DAYS; k++) {
        char *p = put_u(g->day_us[k], (uint64_t)m, 2);
        *p++ = '/';
        p = put_u(p, (uint64_t)d, 2);
        *p++ = '/';
        *put_u(p, (uint64_t)y, 4) = 0;
        p = put_u(g->day_iso[k], (uint64_t)y, 4);
        *p++ = '-';
        p = put_u(p, (uint64_t)m, 2);
        *p++ = '-';
        *put_u(p, (uint64_t)d, 2) = 0;
        if (--d == 0) {
            if (--m == 0) {
                m = 12;
                y--;
            }
            d = days_in_month(y, m);
        }
    }
}

static void index_states(void)
{
    for (size_t s = 0; s < N_STATES; s++) {
        state_info *st = &STATES[s];
        int seen = 0;
        for (size_t c = 0; c < N_CITIES; c++) {
            if (strcmp(CITIES[c].state, st->code) != 0)
                continue;
            if (!seen)
                st->first = (uint16_t)c;
            else if (c != (size_t)st->first + st->count) {
                fprintf(stderr, "gen-portfolio: cities of %s are not contiguous\n", st->code);
                exit(70);
            }
            seen = 1;
            st->count++;
            st->weight += CITIES[c].weight;
        }
        if (!seen) {
            fprintf(stderr, "gen-portfolio: no city for %s\n", st->code);
            exit(70);
        }
        STATE_TOTAL += st->pop_k;
    }
}

static const state_info *pick_state(rng *r)
{
    uint32_t u = below(r, STATE_TOTAL);
    for (size_t s = 0; s < N_STATES; s++) {
        if (u < STATES[s].pop_k)
            return &STATES[s];
        u -= STATES[s].pop_k;
    }
    return &STATES[N_STATES - 1];
}

static const city *pick_city(rng *r, const state_info *st)
{
    uint32_t u = below(r, st->weight);
    for (uint16_t i = 0; i < st->count; i++) {
        const city *c = &CITIES[st->first + i];
        if (u < c->weight)
            return c;
        u -= c->weight;
    }
    return &CITIES[st->first];
}

static int pick_area(rng *r, const city *c)
{
    int n = 0;
    while (n < 3 && c->area[n])
        n++;
    return c->area[below(r, (uint32_t)n)];
}

static const name *pick_name(rng *r, const name *t, uint32_t n)
{
    return &t[below(r, n)];
}

static const char *ascii_of(const name *n)
{
    return n->ascii ? n->ascii : n->text;
}

static void make_email(rng *r, const name *f, const name *l, int malformed, char *out)
{
    uint32_t pattern = below(r, 6), dom = below(r, COUNT(DOMAINS)), bad = below(r, 5);
    uint32_t num = below(r, 1000);
    int capital = chance(r, 5000);
    const char *fa = ascii_of(f), *la = ascii_of(l);
    char *d = out, *at;
    switch (pattern) {
    case 0:
        d = put_s(put_lower(d, fa), ".");
        d = put_lower(d, la);
        break;
    case 1:
        d = put_lower(put_lower(d, fa), la);
        break;
    case 2:
        *d++ = (char)(fa[0] | 0x20);
        d = put_lower(d, la);
        break;
    case 3:
        d = put_s(put_lower(d, fa), "_");
        d = put_lower(d, la);
        break;
    case 4:
        d = put_s(put_lower(d, fa), ".");
        d = put_u(put_lower(d, la), num % 100, 2);
        break;
    default:
        d = put_lower(d, fa);
        *d++ = (char)(la[0] | 0x20);
        d = put_u(d, num, 1);
        break;
    }
    at = d;
    *d++ = '@';
    d = put_s(d, DOMAINS[dom]);
    *d = 0;
    if (capital) { /* Some systems keep what the customer typed. */
        if (out[0] >= 'a' && out[0] <= 'z')
            out[0] = (char)(out[0] & ~0x20);
        if (at[1] >= 'a' && at[1] <= 'z')
            at[1] = (char)(at[1] & ~0x20);
    }
    if (!malformed)
        return;
    switch (bad) {
    case 0: /* no @ */
        memmove(at, at + 1, strlen(at + 1) + 1);
        break;
    case 1: { /* double dot in the local part */
        char *dot = strchr(out, '.');
        if (dot && dot < at) {
            memmove(dot + 1, dot, strlen(dot) + 1);
        } else {
            memmove(out + 3, out + 1, strlen(out + 1) + 1);
            out[1] = out[2] = '.';
        }
        break;
    }
    case 2: { /* double dot in the domain */
        char *dot = strrchr(at, '.');
        memmove(dot + 1, dot, strlen(dot) + 1);
        break;
    }
    case 3: /* no top-level domain: the domain ends at its first dot */
        *strchr(at, '.') = 0;
        break;
    default: { /* a blank inside */
        char *dot = strchr(out, '.');
        if (dot && dot < at)
            *dot = ' ';
        else
            out[1] = ' ';
        break;
    }
    }
}

/* One phone of a person: NXX-555-01XX in one of the ways billing systems write numbers. */
static void make_phone(const gen *g, rng *r, const city *home, int landline, phone *p)
{
    int area = pick_area(r, home);
    uint32_t roam = below(r, 100000), far = below(r, N_CITIES);
    uint32_t line = 100 + below(r, 100), look = below(r, 100), bad = below(r, 100000);
    uint32_t badkind = below(r, 4), ttype = below(r, 100);
    int sms = below(r, 1000), voice = below(r, 1000);
    char *d = p->text;
    if (!landline && roam < 4000) /* kept a mobile number from another state */
        area = pick_area(r, &CITIES[far]);
    p->present = 1;
    if (landline)
        p->type = ttype < 70 ? "landline" : ttype < 95 ? "home" : "work";
    else
        p->type = ttype < 85 ? "mobile" : "cell";
    p->sms = landline ? sms < 10 : sms < 700; /* a few landlines wrongly marked */
    p->voice = landline ? voice < 650 : voice < 500;
    if (bad < 1000) {
        switch (badkind) {
        case 0: /* no area code */
            d = put_s(d, "555-");
            d = put_u(d, line, 4);
            break;
        case 1: /* a digit short */
            *d++ = '(';
            d = put_u(d, (uint64_t)area, 3);
            d = put_s(d, ") 555-");
            d = put_u(d, line / 10, 3);
            break;
        case 2: /* an area code cannot start with 0 */
            d = put_s(d, "0");
            d = put_u(d, (uint64_t)area % 100, 2);
            d = put_s(d, "-555-");
            d = put_u(d, line, 4);
            break;
        default: /* a letter O for a zero */
            d = put_u(d, (uint64_t)area, 3);
            d = put_s(d, "-555-O");
            d = put_u(d, line % 1000, 3);
            break;
        }
        *d = 0;
        return;
    }
    if (g->format == FMT_JSONL)
        look = look < 85 ? 100 : look; /* newer systems send E.164 */
    if (look == 100) {
        d = put_s(d, "+1");
        d = put_u(d, (uint64_t)area, 3);
        d = put_s(d, "555");
        d = put_u(d, line, 4);
    } else if (look < 35) {
        *d++ = '(';
        d = put_u(d, (uint64_t)area, 3);
        d = put_s(d, ") 555-");
        d = put_u(d, line, 4);
    } else if (look < 65) {
        d = put_u(d, (uint64_t)area, 3);
        d = put_s(d, "-555-");
        d = put_u(d, line, 4);
    } else if (look < 75) {
        d = put_u(d, (uint64_t)area, 3);
        d = put_s(d, ".555.");
        d = put_u(d, line, 4);
    } else if (look < 90) {
        d = put_u(d, (uint64_t)area, 3);
        d = put_s(d, "555");
        d = put_u(d, line, 4);
    } else if (look < 95) {
        d = put_s(d, "+1 ");
        d = put_u(d, (uint64_t)area, 3);
        d = put_s(d, " 555 ");
        d = put_u(d, line, 4);
    } else {
        d = put_s(d, "1-");
        d = put_u(d, (uint64_t)area, 3);
        d = put_s(d, "-555-");
        d = put_u(d, line, 4);
    }
    *d = 0;
}

static void make_line2(rng *r, char *out)
{
    uint32_t u = below(r, 100000), k = below(r, 8);
    int n = between(r, 1, 40), b = between(r, 1, 9);
    char *d = out;
    char letter = (char)('A' + below(r, 6));
    if (u < 100) { /* a line break typed into the form */
        d = put_u(put_s(d, "Bldg "), (uint64_t)b, 1);
        d = put_u(put_s(d, "\nApt "), (uint64_t)n, 1);
    } else if (u < 300) {
        d = put_s(d, "Rear Unit \"");
        *d++ = letter;
        *d++ = '"';
    } else if (u < 2300) {
        if (k < 3) {
            d = put_u(put_s(d, "Apt "), (uint64_t)n, 1);
            d = put_s(d, ", Bldg ");
            *d++ = letter;
        } else if (k < 6) {
            d = put_u(put_s(d, "Unit "), (uint64_t)n, 1);
            d = put_s(d, ", Rear");
        } else {
            d = put_u(put_s(d, "Ste "), (uint64_t)n * 10, 1);
            d = put_s(d, ", Attn Billing");
        }
    } else if (u < 22300) {
        switch (k) {
        case 0:
        case 1:
            d = put_u(put_s(d, "Apt "), (uint64_t)n, 1);
            break;
        case 2:
            d = put_u(put_s(d, "Apt "), (uint64_t)b, 1);
            *d++ = letter;
            break;
        case 3:
            d = put_u(put_s(d, "Unit "), (uint64_t)n, 1);
            break;
        case 4:
            d = put_u(put_s(d, "#"), (uint64_t)n, 1);
            break;
        case 5:
            d = put_u(put_s(d, "Suite "), (uint64_t)n * 10, 1);
            break;
        case 6:
            d = put_u(put_s(d, "Lot "), (uint64_t)n, 1);
            break;
        default:
            d = put_u(put_s(d, "Fl "), (uint64_t)b, 1);
            break;
        }
    }
    *d = 0;
}

/* Who row idx belongs to: usually its own person, sometimes (4%) a customer who already has
 * another account earlier in the file (same name, address, phones). */
static uint64_t person_of(const gen *g, uint64_t idx)
{
    for (;;) {
        rng r = stream(g->key, SALT_WHO, idx);
        int shared = chance(&r, 4000);
        uint64_t back = below(&r, idx < 50000 ? (uint32_t)idx : 50000);
        if (!shared || idx == 0)
            return idx;
        idx = idx - 1 - back;
    }
}

static void make_person(const gen *g, uint64_t pidx, acct *w)
{
    rng r = stream(g->key, SALT_PERSON, pidx);
    const state_info *st = pick_state(&r);
    const city *c = pick_city(&r, st);
    int es = below(&r, 1000) < st->es_pm;
    int hispanic = chance(&r, es ? 90000 : 12000);
    uint32_t lang_blank = below(&r, 100);
    const name *f = hispanic ? pick_name(&r, FIRST_ES, COUNT(FIRST_ES))
                             : pick_name(&r, FIRST_EN, COUNT(FIRST_EN));
    const name *l =
        hispanic ? pick_name(&r, LAST_ES, COUNT(LAST_ES)) : pick_name(&r, LAST_EN, COUNT(LAST_EN));
    char *d;

    w->where = c;
    w->first = f->text;
    w->last = l->text;
    w->lang = lang_blank < 10 ? "" : es ? "es" : "en";
    d = put_s(w->debtor_ref, "C");
    *put_u(d, scatter(pidx, 2862933551ULL, g->cust_off), 10) = 0;

    /* address */
    {
        uint32_t house = chance(&r, 10000) ? (uint32_t)between(&r, 10000, 99999)
                                           : (uint32_t)between(&r, 1, 9999);
        int dir = chance(&r, 10000);
        uint32_t which_dir = below(&r, 4), street = below(&r, COUNT(STREETS));
        uint32_t suffix = below(&r, COUNT(SUFFIXES));
        int plus4 = chance(&r, 12000);
        uint32_t z5 = below(&r, 99) + 1, z4 = below(&r, 9999) + 1;
        d = put_u(w->line1, house, 1);
        *d++ = ' ';
        if (dir) {
            d = put_s(d, DIRS[which_dir]);
            *d++ = ' ';
        }
        d = put_s(d, STREETS[street]);
        *d++ = ' ';
        *put_s(d, SUFFIXES[suffix]) = 0;
        make_line2(&r, w->line2);
        d = put_u(w->zip, (uint64_t)c->zip3 * 100 + z5, 5);
        if (plus4) {
            *d++ = '-';
            d = put_u(d, z4, 4);
        }
        *d = 0;
        w->country = chance(&r, 8000) ? "" : "US";
        w->tz = chance(&r, 20000) ? c->tz : "";
    }

    /* e-mail: missing for ~15%, malformed for ~1% */
    {
        uint32_t u = below(&r, 100000);
        int second = chance(&r, 8000);
        if (u < 15000)
            w->email[0][0] = 0;
        else
            make_email(&r, f, l, u < 16000, w->email[0]);
        if (second && w->email[0][0])
            make_email(&r, f, l, 0, w->email[1]);
        else
            w->email[1][0] = 0;
    }

    /* phones: ~5% none; a second one for ~35% */
    {
        int has1 = !chance(&r, 5000), has2 = chance(&r, 35000);
        int land1 = chance(&r, 25000), land2 = chance(&r, land1 ? 30000 : 60000);
        memset(w->ph, 0, sizeof(w->ph));
        if (has1) {
            make_phone(g, &r, c, land1, &w->ph[0]);
            if (has2)
                make_phone(g, &r, c, land2, &w->ph[1]);
        }
    }
}

static int64_t draw_amount(rng *r, const qpt *t)
{
    uint32_t u = below(r, 1000000);
    int i = 0;
    while (t[i + 1].p <= u && t[i + 1].p < 1000000)
        i++;
    return t[i].cents +
           (t[i + 1].cents - t[i].cents) * (int64_t)(u - t[i].p) / (int64_t)(t[i + 1].p - t[i].p);
}

/* 1 when row idx is broken at the current rate (the first draw of its stream decides). */
static int row_is_broken(const gen *g, uint64_t idx)
{
    rng r = stream(g->key, SALT_ROW, idx);
    return below(&r, 1000) < g->broken_pm;
}

/* Row idx as the billing system would export it; damage applied when allowed. */
static void make_row(const gen *g, uint64_t idx, int allow_broken, acct *w)
{
    rng r = stream(g->key, SALT_ROW, idx);
    uint32_t b = below(&r, 1000);
    int kind = 1 + (int)below(&r, BROKEN_KINDS);
    uint32_t u;
    char *d;

    w->broken = (allow_broken && b < g->broken_pm) ? kind : BROKEN_NONE;

    d = put_s(w->account_id, g->style == STYLE_TELECOM    ? "TA"
                             : g->style == STYLE_HOSPITAL ? "HA"
                                                          : "UA");
    *put_u(d, scatter(idx, 6364136223ULL, g->acct_off), 10) = 0;
    d = put_s(w->invoice, g->style == STYLE_HOSPITAL ? "HB" : "INV");
    *put_u(d, scatter(idx, 3935559003ULL, g->inv_off), 10) = 0;

    u = below(&r, 100);
    switch (g->style) {
    case STYLE_TELECOM:
        w->service = "telecom";
        w->original = draw_amount(&r, AMOUNTS_TELECOM);
        break;
    case STYLE_HOSPITAL:
        w->service = u < 92 ? "medical" : "other";
        w->original = draw_amount(&r, AMOUNTS_HOSPITAL);
        break;
    default:
        w->service = u < 55 ? "electricity" : u < 75 ? "gas" : u < 92 ? "water" : "telecom";
        w->original = draw_amount(&r, AMOUNTS_UTILITY);
        break;
    }

    /* balance: mostly the original; partial payments, late fees, a few credits */
    u = below(&r, 100000);
    {
        int64_t credit = between(&r, 100, 15000), fee = between(&r, 500, 2500);
        int64_t share = between(&r, 100, 950);
        if (u < 300)
            w->balance = -credit;
        else if (u < 24300)
            w->balance = w->original * share / 1000 > 0 ? w->original * share / 1000 : 1;
        else if (u < 30000 && w->original + fee <= 2000000) /* never past $20,000 */
            w->balance = w->original + fee;
        else
            w->balance = w->original;
    }

    /* how long overdue: 1 to 400 days, most of it recent */
    u = below(&r, 100);
    {
        int ranges[5][2] = {{1, 30}, {31, 60}, {61, 90}, {91, 180}, {181, 400}};
        int k = u < 35 ? 0 : u < 60 ? 1 : u < 75 ? 2 : u < 90 ? 3 : 4;
        w->due_ago = between(&r, ranges[k][0], ranges[k][1]);
        w->issue_ago = w->due_ago + between(&r, 20, 30);
    }

    u = below(&r, 100);
    if (g->style == STYLE_HOSPITAL)
        w->regime = u < 5 ? "" : u < 50 ? "third_party" : "creditor";
    else
        w->regime = u < 5 ? "" : u < 12 ? "third_party" : "creditor";
    w->currency = chance(&r, 3000) ? "" : "USD";

    /* customer profile */
    {
        uint32_t t = below(&r, 100), p = below(&r, 100);
        int tenure_lo[] = {1, 13, 49, 121}, tenure_hi[] = {12, 48, 120, 360};
        int tk = t < 30 ? 0 : t < 60 ? 1 : t < 85 ? 2 : 3;
        int tenure = between(&r, tenure_lo[tk], tenure_hi[tk]);
        int prior = p < 45 ? 0 : p < 70 ? 1 : p < 83 ? 2 : p < 91 ? 3 : 0;
        int prior_hi = between(&r, 4, 6), prior_vhi = between(&r, 7, 12);
        int pay12 = chance(&r, 12000) ? 0 : between(&r, 1, 12);
        int autopay = chance(&r, g->style == STYLE_HOSPITAL ? 2000 : 9000);
        if (p >= 91)
            prior = p < 96 ? prior_hi : prior_vhi;
        if (pay12 > tenure)
            pay12 = tenure;
        w->tenure = chance(&r, 3000) ? -1 : tenure;
        w->prior = chance(&r, 3000) ? -1 : prior;
        w->pay12 = chance(&r, 3000) ? -1 : pay12;
        w->autopay = chance(&r, 3000) ? -1 : autopay;
        w->cycle = between(&r, 1, 21);
    }

    w->bad_amount = NULL;
    w->bad_date = -1;
    {
        uint32_t which_amount = below(&r, COUNT(BAD_AMOUNTS)), which_date = below(&r, 4);
        switch (w->broken) {
        case BROKEN_NO_ID:
            w->account_id[0] = 0;
            break;
        case BROKEN_AMOUNT:
            w->bad_amount = BAD_AMOUNTS[which_amount];
            break;
        case BROKEN_DATE:
            w->bad_date = (int)which_date;
            break;
        case BROKEN_CURRENCY:
            w->currency = "XYZ";
            break;
        default:
            break;
        }
    }

    make_person(g, person_of(g, idx), w);
}

/* ------------------------------------------------------------------ output */

typedef struct out {
    FILE *f;
    char *buf;
    size_t len;
    int failed;
} out;

static void out_flush(out *o)
{
    if (o->len && !o->failed && fwrite(o->buf, 1, o->len, o->f) != o->len)
        o->failed = errno ? errno : EIO;
    o->len = 0;
}

static void out_raw(out *o, const char *s, size_t n)
{
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void out_c(out *o, char c)
{
    o->buf[o->len++] = c;
}

/* RFC 4180: quoted only when it must be, quotes doubled. */
static void csv_str(out *o, const char *s)
{
    size_t n = strlen(s);
    int quote = 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        out_raw(o, s, n);
        return;
    }
    out_c(o, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            out_c(o, '"');
        out_c(o, s[i]);
    }
    out_c(o, '"');
}

static void csv_int(out *o, int v)
{
    if (v >= 0)
        o->len = (size_t)(put_u(o->buf + o->len, (uint64_t)v, 1) - o->buf);
}

static void csv_yn(out *o, int v)
{
    if (v >= 0)
        out_c(o, v ? 'Y' : 'N');
}

static void csv_cents(out *o, int64_t c)
{
    o->len = (size_t)(put_cents(o->buf + o->len, c) - o->buf);
}

static const char CSV_HEADER[] =
    "Account Number,Customer ID,First Name,Last Name,Email,Email 2,Phone 1,Phone 1 Type,"
    "Phone 1 SMS Opt-In,Phone 1 Autodialer Consent,Phone 2,Phone 2 Type,Phone 2 SMS Opt-In,"
    "Phone 2 Autodialer Consent,Service Address 1,Service Address 2,City,State,ZIP,Country,"
    "Time Zone,Language,Service Type,Invoice Number,Invoice Date,Due Date,Original Amount,"
    "Amount Due,Currency,Account Type,Billing Cycle,Months As Customer,AutoPay,"
    "Prior Delinquencies,Payments Last 12M\r\n";

static void emit_csv(out *o, const gen *g, const acct *w)
{
    csv_str(o, w->account_id);
    out_c(o, ',');
    csv_str(o, w->debtor_ref);
    out_c(o, ',');
    csv_str(o, w->first);
    out_c(o, ',');
    csv_str(o, w->last);
    out_c(o, ',');
    csv_str(o, w->email[0]);
    out_c(o, ',');
    csv_str(o, w->email[1]);
    for (int i = 0; i < 2; i++) {
        const phone *p = &w->ph[i];
        out_c(o, ',');
        if (p->present) {
            csv_str(o, p->text);
            out_c(o, ',');
            csv_str(o, p->type);
            out_c(o, ',');
            csv_yn(o, p->sms);
            out_c(o, ',');
            csv_yn(o, p->voice);
        } else {
            out_raw(o, ",,,", 3);
        }
    }
    out_c(o, ',');
    csv_str(o, w->line1);
    out_c(o, ',');
    csv_str(o, w->line2);
    out_c(o, ',');
    csv_str(o, w->where->name);
    out_c(o, ',');
    csv_str(o, w->where->state);
    out_c(o, ',');
    csv_str(o, w->zip);
    out_c(o, ',');
    csv_str(o, w->country);
    out_c(o, ',');
    csv_str(o, w->tz);
    out_c(o, ',');
    csv_str(o, w->lang);
    out_c(o, ',');
    csv_str(o, w->service);
    out_c(o, ',');
    csv_str(o, w->invoice);
    out_c(o, ',');
    csv_str(o, g->day_us[w->issue_ago]);
    out_c(o, ',');
    csv_str(o, w->bad_date >= 0 ? BAD_DATES_CSV[w->bad_date] : g->day_us[w->due_ago]);
    out_c(o, ',');
    csv_cents(o, w->original);
    out_c(o, ',');
    if (w->bad_amount)
        csv_str(o, w->bad_amount);
    else
        csv_cents(o, w->balance);
    out_c(o, ',');
    csv_str(o, w->currency);
    out_c(o, ',');
    csv_str(o, w->regime);
    out_c(o, ',');
    o->len = (size_t)(put_u(o->buf + o->len, (uint64_t)w->cycle, 2) - o->buf);
    out_c(o, ',');
    csv_int(o, w->tenure);
    out_c(o, ',');
    csv_yn(o, w->autopay);
    out_c(o, ',');
    csv_int(o, w->prior);
    out_c(o, ',');
    csv_int(o, w->pay12);
    out_raw(o, "\r\n", 2);
}

static void json_escaped(out *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    out_c(o, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out_c(o, '\\');
            out_c(o, (char)c);
        } else if (c == '\n') {
            out_raw(o, "\\n", 2);
        } else if (c == '\r') {
            out_raw(o, "\\r", 2);
        } else if (c == '\t') {
            out_raw(o, "\\t", 2);
        } else if (c < 0x20) {
            out_raw(o, "\\u00", 4);
            out_c(o, hex[c >> 4]);
            out_c(o, hex[c & 15]);
        } else {
            out_c(o, (char)c);
        }
    }
    out_c(o, '"');
}

/* ,"key": -- the caller writes the value. The first key of a line has no comma. */
static void json_key(out *o, int *first, const char *key)
{
    if (!*first)
        out_c(o, ',');
    *first = 0;
    out_c(o, '"');
    out_raw(o, key, strlen(key));
    out_raw(o, "\":", 2);
}

/* Empty text is left out: the field is absent, as in an export that has nothing to say. */
static void json_str(out *o, int *first, const char *key, const char *v)
{
    if (!*v)
        return;
    json_key(o, first, key);
    json_escaped(o, v);
}

static void json_int(out *o, int *first, const char *key, int v)
{
    if (v < 0)
        return;
    json_key(o, first, key);
    o->len = (size_t)(put_u(o->buf + o->len, (uint64_t)v, 1) - o->buf);
}

static void json_bool(out *o, int *first, const char *key, int v)
{
    if (v < 0)
        return;
    json_key(o, first, key);
    if (v)
        out_raw(o, "true", 4);
    else
        out_raw(o, "false", 5);
}

static void json_cents(out *o, int *first, const char *key, int64_t c)
{
    char t[32];
    *put_cents(t, c) = 0;
    json_key(o, first, key);
    json_escaped(o, t);
}

static void emit_jsonl(out *o, const gen *g, const acct *w)
{
    static const char *const keys[2][4] = {
        {"phone", "phone_type", "phone_sms_consent", "phone_voice_consent"},
        {"phone2", "phone2_type", "phone2_sms_consent", "phone2_voice_consent"},
    };
    int first = 1;
    out_c(o, '{');
    json_str(o, &first, "account_id", w->account_id);
    json_str(o, &first, "regime", w->regime);
    json_str(o, &first, "currency", w->currency);
    if (w->bad_amount) {
        json_key(o, &first, "balance");
        json_escaped(o, w->bad_amount);
    } else {
        json_cents(o, &first, "balance", w->balance);
    }
    json_cents(o, &first, "original_balance", w->original);
    json_str(o, &first, "invoice_id", w->invoice);
    json_str(o, &first, "issue_date", g->day_iso[w->issue_ago]);
    json_str(o, &first, "due_date",
             w->bad_date >= 0 ? BAD_DATES_ISO[w->bad_date] : g->day_iso[w->due_ago]);
    json_str(o, &first, "service_type", w->service);
    json_str(o, &first, "debtor_ref", w->debtor_ref);
    json_str(o, &first, "first_name", w->first);
    json_str(o, &first, "last_name", w->last);
    json_str(o, &first, "email", w->email[0]);
    json_str(o, &first, "email2", w->email[1]);
    for (int i = 0; i < 2; i++) {
        const phone *p = &w->ph[i];
        if (!p->present)
            continue;
        json_str(o, &first, keys[i][0], p->text);
        json_str(o, &first, keys[i][1], p->type);
        json_bool(o, &first, keys[i][2], p->sms);
        json_bool(o, &first, keys[i][3], p->voice);
    }
    json_str(o, &first, "address_line1", w->line1);
    json_str(o, &first, "address_line2", w->line2);
    json_str(o, &first, "city", w->where->name);
    json_str(o, &first, "state", w->where->state);
    json_str(o, &first, "zip", w->zip);
    json_str(o, &first, "country", w->country);
    json_str(o, &first, "timezone", w->tz);
    json_str(o, &first, "language", w->lang);
    json_int(o, &first, "tenure_months", w->tenure);
    json_bool(o, &first, "autopay", w->autopay);
    json_int(o, &first, "prior_delinquencies", w->prior);
    json_int(o, &first, "payments_12m", w->pay12);
    out_raw(o, "}\n", 2);
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *to)
{
    fprintf(to,
            "usage: gen-portfolio --accounts N --seed S [--format csv|jsonl] [--out FILE]\n"
            "                     [--as-of YYYY-MM-DD] [--broken-rate PERMILLE]\n"
            "                     [--tenant-style utility|telecom|hospital] [--quiet]\n"
            "  A synthetic billing export of N delinquent accounts (one row each), the same\n"
            "  bytes for the same arguments. CSV (RFC 4180, CRLF, dates MM/DD/YYYY) matches\n"
            "  deploy/mappings/gen-portfolio.csv.json; JSON Lines (dates YYYY-MM-DD) matches\n"
            "  deploy/mappings/gen-portfolio.jsonl.json.\n"
            "  --as-of         the export date (default 2026-11-01); due dates are 1-400\n"
            "                  days before it\n"
            "  --broken-rate   rows per thousand that are broken on purpose (default 5):\n"
            "                  no account id, a bad amount, a bad due date, currency XYZ, or an\n"
            "                  exact repeat of an earlier row\n"
            "  --out           write there instead of stdout\n"
            "  --quiet         no summary on stderr\n");
}

static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
    char *end;
    if (!s || !*s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end || x > max)
        return -1;
    *v = x;
    return 0;
}

static int fail_arg(const char *what, const char *v)
{
    fprintf(stderr, "gen-portfolio: bad %s: %s (see --help)\n", what, v ? v : "(missing)");
    return 2;
}

int main(int argc, char **argv)
{
    static gen g;
    const char *accounts = NULL, *seed = NULL, *format = "csv", *path = NULL;
    const char *as_of = "2026-11-01", *rate = "5", *style = "utility";
    int quiet = 0, y, m, d;
    uint64_t v, counts[BROKEN_KINDS + 1] = {0};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
            continue;
        } else if (!strcmp(a, "--accounts")) {
            slot = &accounts;
        } else if (!strcmp(a, "--seed")) {
            slot = &seed;
        } else if (!strcmp(a, "--format")) {
            slot = &format;
        } else if (!strcmp(a, "--out")) {
            slot = &path;
        } else if (!strcmp(a, "--as-of")) {
            slot = &as_of;
        } else if (!strcmp(a, "--broken-rate")) {
            slot = &rate;
        } else if (!strcmp(a, "--tenant-style")) {
            slot = &style;
        } else {
            fprintf(stderr, "gen-portfolio: unknown argument %s (see --help)\n", a);
            return 2;
        }
        if (!val)
            return fail_arg(a, NULL);
        *slot = val;
        i++;
    }
    if (!accounts || !seed) {
        usage(stderr);
        return 2;
    }
    if (parse_u64(accounts, MAX_ACCOUNTS, &g.accounts))
        return fail_arg("--accounts", accounts);
    if (parse_u64(seed, UINT64_MAX, &v))
        return fail_arg("--seed", seed);
    g.key = arr_hash_mix64(v ^ 0x5ca1ab1e0ddba11ULL);
    if (!strcmp(format, "csv"))
        g.format = FMT_CSV;
    else if (!strcmp(format, "jsonl"))
        g.format = FMT_JSONL;
    else
        return fail_arg("--format", format);
    if (parse_ymd(as_of, &y, &m, &d))
        return fail_arg("--as-of", as_of);
    if (parse_u64(rate, 1000, &v))
        return fail_arg("--broken-rate", rate);
    g.broken_pm = (uint32_t)v;
    g.style = -1;
    for (int s = 0; s < 3; s++) {
        if (!strcmp(style, STYLE_NAMES[s]))
            g.style = s;
    }
    if (g.style < 0)
        return fail_arg("--tenant-style", style);

    index_states();
    fill_days(&g, y, m, d);
    {
        rng r = stream(g.key, SALT_IDS, 0);
        g.acct_off = next64(&r) % TEN10;
        g.cust_off = next64(&r) % TEN10;
        g.inv_off = next64(&r) % TEN10;
    }

    out o = {stdout, malloc(OUT_CAP), 0, 0};
    if (!o.buf) {
        fprintf(stderr, "gen-portfolio: out of memory\n");
        return 1;
    }
    if (path && !(o.f = fopen(path, "wb"))) {
        fprintf(stderr, "gen-portfolio: cannot write %s: %s\n", path, strerror(errno));
        free(o.buf);
        return 1;
    }
    if (g.format == FMT_CSV)
        out_raw(&o, CSV_HEADER, sizeof(CSV_HEADER) - 1);

    for (uint64_t i = 0; i < g.accounts && !o.failed; i++) {
        acct w;
        make_row(&g, i, 1, &w);
        if (w.broken == BROKEN_DUP) {
            /* an exact repeat of a recent, sound row; none found: this row stays sound */
            rng r = stream(g.key, SALT_DUP, i);
            uint64_t span = i < 1000 ? i : 1000, j = i - 1 - below(&r, (uint32_t)span);
            int found = 0;
            for (int tries = 0; i > 0 && tries < 64; tries++, j--) {
                if (!row_is_broken(&g, j)) {
                    found = 1;
                    break;
                }
                if (j == 0)
                    break;
            }
            make_row(&g, found ? j : i, 0, &w);
            if (found)
                w.broken = BROKEN_DUP;
        }
        counts[w.broken]++;
        if (g.format == FMT_CSV)
            emit_csv(&o, &g, &w);
        else
            emit_jsonl(&o, &g, &w);
        if (OUT_CAP - o.len < ROW_MAX)
            out_flush(&o);
    }
    out_flush(&o);
    if (!o.failed && fflush(o.f))
        o.failed = errno ? errno : EIO;
    if (path && fclose(o.f) && !o.failed)
        o.failed = errno ? errno : EIO;
    free(o.buf);
    if (o.failed) {
        fprintf(stderr, "gen-portfolio: write failed: %s\n", strerror(o.failed));
        return 1;
    }
    if (!quiet) {
        uint64_t broken = g.accounts - counts[BROKEN_NONE];
        fprintf(stderr,
                "gen-portfolio: %" PRIu64 " rows (%s, %s, seed %s, as of %s), %" PRIu64 " broken:",
                g.accounts, STYLE_NAMES[g.style], format, seed, as_of, broken);
        for (int k = 1; k <= BROKEN_KINDS; k++)
            fprintf(stderr, " %s %" PRIu64, BROKEN_NAMES[k], counts[k]);
        fputc('\n', stderr);
    }
    return 0;
}
