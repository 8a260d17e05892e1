-- Per (profile, title) this run touches: from when its sessions and cycles are recomputed, and
-- how many published cycles come before (the offset of the recomputed cycles' numbers).
with

changes as (

    select * from {{ ref('int_run_changes') }}

),

published_cycles as (

    select * from {{ source('published', 'fct_watch_cycles') }}

),

pairs as (

    select
        profile_id,
        title_id,
        min(recompute_from) as sessions_from

    from changes

    group by profile_id, title_id

),

-- Recompute from the start of the cycle in progress when the first changed session starts:
-- that session may now continue it. Cycles before it cannot change; their count is the
-- offset of the recomputed cycles' numbers.
pair_cycles_before as (

    select
        pairs.profile_id,
        pairs.title_id,
        pairs.sessions_from,
        max(published_cycles.started_at) as cycle_in_progress_from

    from pairs
    left join published_cycles
        on
            pairs.profile_id = published_cycles.profile_id
            and pairs.title_id = published_cycles.title_id
            and published_cycles.started_at < pairs.sessions_from

    group by pairs.profile_id, pairs.title_id, pairs.sessions_from

),

changed_pairs as (

    select
        pair_cycles_before.profile_id,
        pair_cycles_before.title_id,
        pair_cycles_before.sessions_from,
        coalesce(pair_cycles_before.cycle_in_progress_from, cast('-infinity' as timestamp)) as cycles_from,
        count(published_cycles.cycle_id) as cycle_number_offset

    from pair_cycles_before
    left join published_cycles
        on
            pair_cycles_before.profile_id = published_cycles.profile_id
            and pair_cycles_before.title_id = published_cycles.title_id
            and published_cycles.started_at < pair_cycles_before.cycle_in_progress_from

    group by
        pair_cycles_before.profile_id,
        pair_cycles_before.title_id,
        pair_cycles_before.sessions_from,
        pair_cycles_before.cycle_in_progress_from

)

select * from changed_pairs
