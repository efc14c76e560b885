/* bench-scorecard: what deciding one account costs (features, scorecard, reason codes,
 * strategy, arm), and writing its score.computed payload, on this machine. Prints figures;
 * scripts/bench scoring runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "engine.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *deploy = argc > 1 ? argv[1] : ARR_DEPLOY_DIR;
    long n = argc > 2 ? atol(argv[2]) : 1000000;
    char model[1024], table[1024], exps[1024], why[512] = "";
    snprintf(model, sizeof(model), "%s/models/scorecard-default-1.json", deploy);
    snprintf(table, sizeof(table), "%s/strategy/default-1.json", deploy);
    snprintf(exps, sizeof(exps), "%s/scoring/experiments.json", deploy);
    scoring_engine *e = NULL;
    if (scoring_engine_load(model, table, exps, &e, why, sizeof(why)) != ARR_OK) {
        fprintf(stderr, "bench-scorecard: %s\n", why);
        return 1;
    }
    scoring_state st;
    scoring_state_init(&st);
    st.balance_cents = 12345;
    st.lifecycle = SCORING_LC_OPEN;
    st.due_day = 20300;
    st.open_debts = 1;
    snprintf(st.currency, sizeof(st.currency), "USD");
    arr_buf b;
    arr_buf_init(&b, 1 << 20);
    double sink = 0, t0 = now_s();
    for (long i = 0; i < n; i++) {
        scoring_decision d;
        st.balance_cents = 1000 + i % 50000;
        scoring_engine_decide(e, "demo-utility", "ACC-1", &st, 1793491200000LL, &d);
        sink += d.score.probability;
    }
    double t1 = now_s();
    for (long i = 0; i < n; i++) {
        scoring_decision d;
        st.balance_cents = 1000 + i % 50000;
        scoring_engine_decide(e, "demo-utility", "ACC-1", &st, 1793491200000LL, &d);
        arr_buf_reset(&b);
        scoring_decision_payload(&d, &st, "account.placed", &b);
    }
    double t2 = now_s();
    printf("decide %.0f ns/account, decide + payload %.0f ns/account (%ld accounts, check %.3f)\n",
           (t1 - t0) / (double)n * 1e9, (t2 - t1) / (double)n * 1e9, n, sink / (double)n);
    arr_buf_free(&b);
    scoring_engine_free(e);
    return 0;
}
