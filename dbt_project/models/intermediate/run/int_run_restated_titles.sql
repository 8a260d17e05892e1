-- Titles whose already-published figures this run may restate, and why (docs/metrics.md,
-- "Restatements"): events this run delivers that happened before their export night (late),
-- a night delivered again, a catalog recut. The publish step logs those titles' published
-- rpt_title_performance rows that this run changes (rewatch_restatements); a title whose figures
-- only grow with the night's own events is no restatement.
with

night_deliveries as (

    select * from {{ ref('stg_exports__playback_events') }}

),

published_deliveries as (

    select * from {{ source('published_intermediate', 'int_playback_events') }}

),

published_nights as (

    select * from {{ source('published_intermediate', 'int_nights_processed') }}

),

changed_titles as (

    select * from {{ ref('int_run_changed_titles') }}

),

late_titles as (

    select distinct title_id
    from night_deliveries
    where event_at < cast(export_date as timestamp)

),

-- A night published before and delivered again: what it delivers now, and what it delivered then.
redelivered_titles as (

    select title_id
    from night_deliveries
    where export_date in (select published_nights.export_date from published_nights)

    union

    select title_id
    from published_deliveries
    where export_date in ({{ run_nights() }})

),

tagged_titles as (

    select
        title_id,
        'late_events' as reason
    from late_titles

    union all

    select
        title_id,
        'redelivered_night' as reason
    from redelivered_titles

    union all

    select
        title_id,
        'catalog_recut' as reason
    from changed_titles

),

reasons as (

    select
        title_id,
        bool_or(reason = 'late_events') as has_late_events,
        bool_or(reason = 'redelivered_night') as has_redelivered_night,
        bool_or(reason = 'catalog_recut') as has_catalog_recut

    from tagged_titles

    group by title_id

)

select * from reasons
