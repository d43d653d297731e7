-- `abs_difference` holds the amount at stake (issue 17): |difference|, or for a discrepancy
-- whose difference is 0 (a currency or status mismatch) the amount on whichever side has one
-- (paydesk_core::amount_at_stake). The review table sorts and filters by it, the dashboard sums
-- it: a currency mismatch of 943.47 EUR is 943.47 at stake, not 0. The update bumps the
-- review counters (0010), so cached position anchors are rebuilt.
UPDATE discrepancies
SET abs_difference = CASE
        WHEN COALESCE(provider_amount, local_amount, 0) < -9223372036854775807
            THEN 9223372036854775807
        ELSE ABS(COALESCE(provider_amount, local_amount, 0))
    END
WHERE difference = 0 AND COALESCE(provider_amount, local_amount, 0) <> 0;
