-- The shared starter plan connects upward too: a county with no budget must still reach the
-- provincial platform (the mandate of 建办督〔2021〕54号 does not wait for funding), so every
-- plan has the data exchange. An operator who changed the plan keeps their list, with exchange
-- added unless it is there.
UPDATE control.billing_plans
SET modules = (modules::jsonb || '["exchange"]'::jsonb)::text, updated_at = now()
WHERE code = 'starter' AND NOT modules::jsonb @> '["exchange"]'::jsonb;
