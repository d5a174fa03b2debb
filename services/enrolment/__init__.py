"""Enrolment: the register of which pupil is enrolled at which school, and when.

Run its API with `iris api enrolment` and its worker with `iris worker enrolment`.
"""
