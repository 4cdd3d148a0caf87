"""What a change does to live traffic, in plain words (rollout_summary.py): the sentences
`diff` prints and the rollout commands print.
"""
