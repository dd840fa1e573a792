{{ cdp_quarantined_rows(source('crm', 'contacts'), ref('base_crm__contacts')) }}
