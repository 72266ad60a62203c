"""Client-side pacing under the organization's quotas."""
