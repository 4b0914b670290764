"""What the decision letter names: the signer's credentials, the referrer's own patient id.

- ``user.credentials``: the letters after a clinician's name on a signed letter
  ("MD, FRCSC"); empty for people who sign nothing.
- ``second_opinion_request.referrer_patient_id``: the referring clinician's own
  identifier for the patient (their chart number), optional, shown on the letter
  so it can be filed in their record; never shown to the panel as a name.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("credentials", sa.String(length=100), nullable=False,
                                   server_default=""))
    with op.batch_alter_table("second_opinion_request") as batch:
        batch.add_column(sa.Column("referrer_patient_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("second_opinion_request") as batch:
        batch.drop_column("referrer_patient_id")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("credentials")
