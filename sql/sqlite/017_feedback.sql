-- Feedback from other channels (POST /cc/feedback: chat, email, bot...): an answer row whose source
-- is its channel, with the customer's words in message (NULL for every IVR answer and link rating).
-- Such an answer may name no agent or queue (''): it is counted in the contact center's statistics,
-- under no agent.
ALTER TABLE survey_answer ADD COLUMN message TEXT;
