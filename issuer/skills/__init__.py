"""What badges add up to: the skills cloud, gaps to target profiles, team formation, talent
search, programme progress and learning-hours reports."""
