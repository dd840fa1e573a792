{{ cdp_quarantined_rows(source('support', 'tickets'), ref('base_support__tickets')) }}
