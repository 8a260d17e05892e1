-- This run only: each changed stream (a profile watching a title on a device) and the instant
-- from which its sessions are recomputed. The one place the run's streams are listed: events,
-- sessions, segments and the audit read it instead of re-deriving it from int_run_changes.
with

changes as (

    select * from {{ ref('int_run_changes') }}

),

-- int_run_changes holds a row per household of a stream, all with the stream's recompute point.
changed_streams as (

    select
        profile_id,
        device_id,
        title_id,
        min(recompute_from) as recompute_from

    from changes

    group by profile_id, device_id, title_id

)

select * from changed_streams
