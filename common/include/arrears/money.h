/* arr_money: what arrears knows of currencies. Money is always integer minor units with an
 * ISO 4217 code (DOMAIN.md); this says how many digits a code's minor unit has. */
#ifndef ARREARS_MONEY_H
#define ARREARS_MONEY_H

/* ISO 4217 minor-unit digits of a three-letter code: 0 (JPY, KRW, ...), 3 (KWD, BHD, ...),
 * 4 (CLF, UYW), else 2. currency need not be NUL-terminated past its third letter. */
int arr_currency_decimals(const char *currency);

#endif
