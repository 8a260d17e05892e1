-- The raw partitions as loaded, not their staging view: the audit checks the export contract's
-- column names, so it reads the source itself.
with

events as (

    select * from {{ source('exports', 'playback_events') }}

),

titles as (

    select * from {{ ref('int_titles_current') }}

),

events_joined_to_titles as (

    select
        events.*,
        titles.runtime_seconds as title_runtime_seconds

    from events

    left join titles
        on events.title_id = titles.title_id

)

select * from events_joined_to_titles
