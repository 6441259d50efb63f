-- The mobile number of an employee: how DingTalk knows a member (unique within a company).
ALTER TABLE employees ADD COLUMN mobile TEXT;
