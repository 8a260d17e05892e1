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
-- offset of the recomputed cycles' numbers. One read of the published cycles: per pair, how
-- many start at each time before its first changed session.
pair_cycle_starts as (

    select
        pairs.profile_id,
        pairs.title_id,
        pairs.sessions_from,
        published_cycles.started_at,
        count(published_cycles.cycle_id) as cycles

    from pairs
    left join published_cycles
        on
            pairs.profile_id = published_cycles.profile_id
            and pairs.title_id = published_cycles.title_id
            and published_cycles.started_at < pairs.sessions_from

    group by pairs.profile_id, pairs.title_id, pairs.sessions_from, published_cycles.started_at

),

-- The cycle in progress starts at the latest of those times; the offset counts the cycles
-- starting before it (all of them, less those starting at that time).
changed_pairs as (

    select
        profile_id,
        title_id,
        sessions_from,
        coalesce(max(started_at), cast('-infinity' as timestamp)) as cycles_from,
        cast(coalesce(sum(cycles) - arg_max(cycles, started_at), 0) as bigint) as cycle_number_offset

    from pair_cycle_starts

    group by profile_id, title_id, sessions_from

)

select * from changed_pairs
