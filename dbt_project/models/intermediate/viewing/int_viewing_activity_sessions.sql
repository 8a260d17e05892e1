-- One row per viewing-activity session, in the shape of fct_viewing_sessions: the feed's row
-- is already a session; its title resolved through int_viewing_activity_titles, and the zone
-- of the row's Country when that country has one (travel: docs/metrics.md 7a).
with

activity as (

    select * from {{ ref('int_viewing_activity') }}

),

activity_titles as (

    select * from {{ ref('int_viewing_activity_titles') }}

),

single_zone_countries as (

    select * from {{ ref('country_single_timezones') }}

),

sessions as (

    select
        activity.session_id,
        activity.household_id,
        activity.profile_id,
        activity.device_id,
        activity.device_type,
        activity_titles.title_id,
        activity.started_at,
        activity.ended_at,
        activity.covered_from_seconds as start_position_seconds,
        cast(activity.bookmark_seconds as double) as end_position_seconds,
        cast(activity.bookmark_seconds as double) as max_position_seconds,
        cast(activity.played_seconds as double) as played_seconds,
        1 as event_count,
        -- A title delivered once as a clip (with its Supplemental Video Type) is a clip in every
        -- row: a row that lost the type takes the title's, so no clip forms a cycle.
        coalesce(activity.supplemental_type, activity_titles.supplemental_type) as supplemental_type,
        activity.is_autoplay,
        single_zone_countries.timezone_name as country_timezone_name,
        activity.source_line,
        activity.export_date

    from activity
    inner join activity_titles
        on activity.title_key = activity_titles.title_key
    left join single_zone_countries
        on activity.country_code = single_zone_countries.country_code

)

select * from sessions
