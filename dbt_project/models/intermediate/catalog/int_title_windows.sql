-- One row per title and launch window (docs/metrics.md, "Title performance" and "Honest
-- windows"): its local dates, and how many of them the published nights cover in every time zone.
with

titles as (

    select * from {{ ref('int_titles_current') }}

),

observed_dates as (

    select * from {{ ref('int_observed_local_dates') }}

),

windows as (

    {%- for days in var('rewatch__performance_window_days') %}
    select
        'd{{ days }}' as window_name,
        {{ days }} as window_days
    union all
    {%- endfor %}
    select
        'lifetime' as window_name,
        null as window_days

),

window_bounds as (

    select
        titles.title_id,
        windows.window_name,
        windows.window_days,
        -- `lifetime` has no bounds; the days it observes count from the release date, if any.
        titles.release_date as counted_from,
        case when windows.window_days is not null then titles.release_date end as window_start_date,
        case
            when windows.window_days is not null then titles.release_date + cast(windows.window_days - 1 as integer)
        end as window_end_date

    from titles
    cross join windows
    -- A launch window needs a launch: a title without a release date has only `lifetime`.
    where windows.window_days is null or titles.release_date is not null

),

title_windows as (

    select
        window_bounds.title_id,
        window_bounds.window_name,
        window_bounds.window_days,
        window_bounds.window_start_date,
        window_bounds.window_end_date,
        count(observed_dates.local_date) as days_observed

    from window_bounds
    left join observed_dates
        on
            (window_bounds.counted_from is null or observed_dates.local_date >= window_bounds.counted_from)
            and (window_bounds.window_end_date is null or observed_dates.local_date <= window_bounds.window_end_date)

    group by
        window_bounds.title_id,
        window_bounds.window_name,
        window_bounds.window_days,
        window_bounds.window_start_date,
        window_bounds.window_end_date

),

completeness as (

    select
        title_id,
        window_name,
        window_start_date,
        window_end_date,
        days_observed,
        -- An open window (`lifetime`) is never complete.
        coalesce(days_observed = window_days, false) as is_window_complete

    from title_windows

)

select * from completeness
