-- The shared starter plan connects upward too: a county with no budget must still reach the
-- provincial platform (the mandate of 建办督〔2021〕54号 does not wait for funding), so every
-- plan has the data exchange. An operator who changed the plan keeps their list, with exchange
-- added unless it is there.
UPDATE control.billing_plans
SET modules = json_insert(modules, '$[#]', 'exchange'), updated_at = CURRENT_TIMESTAMP
WHERE code = 'starter' AND NOT EXISTS (SELECT 1 FROM json_each(control.billing_plans.modules) WHERE value = 'exchange');
