"""Learners as people: who owns an email, accounts (emails, merging, deletion), sign-in
links, and the groups (departments, cohorts) HR puts them in."""
