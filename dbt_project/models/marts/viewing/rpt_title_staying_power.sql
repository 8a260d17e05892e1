-- One row per title and day since its release, 0 to rewatch__staying_power_days (docs/metrics.md,
-- "Staying power"): who came back to the title each local day, and a 7-day rolling sum.
with

titles as (

    select * from {{ ref('int_titles_current') }}

),

title_daily as (

    select * from {{ after_run('published', 'fct_title_daily', ['title_id', 'local_date']) }}

),

observed_dates as (

    select * from {{ ref('int_observed_local_dates') }}

),

days_since_release as (

    select
        unnest(range(0, {{ var('rewatch__staying_power_days') }} + 1)) as day_since_release

),

-- Days up to the last local date the processed nights deliver in every zone: no row for a day
-- the data has not reached yet.
last_observed as (

    select max(local_date) as local_date

    from observed_dates

),

-- Titles with a release date that someone watched (fct_title_daily leaves out trailers, hooks
-- and recaps).
titles_watched as (

    select
        titles.title_id,
        titles.release_date

    from titles
    semi join title_daily
        on titles.title_id = title_daily.title_id
    where titles.release_date is not null

),

title_days as (

    select
        titles_watched.title_id,
        days_since_release.day_since_release,
        titles_watched.release_date + cast(days_since_release.day_since_release as integer) as local_date

    from titles_watched
    cross join days_since_release
    cross join last_observed
    where
        titles_watched.release_date + cast(days_since_release.day_since_release as integer)
        <= last_observed.local_date

),

days_counted as (

    select
        title_days.title_id,
        title_days.day_since_release,
        title_days.local_date,
        observed_dates.local_date is not null as is_day_observed,
        coalesce(title_daily.starters, 0) as households,
        coalesce(title_daily.view_sessions, 0) as view_sessions,
        coalesce(title_daily.completions, 0) as completions,
        coalesce(title_daily.kids_completions, 0) as kids_completions

    from title_days
    left join observed_dates
        on title_days.local_date = observed_dates.local_date
    left join title_daily
        on
            title_days.title_id = title_daily.title_id
            and title_days.local_date = title_daily.local_date

),

days_rolled as (

    select
        *,
        sum(households) over last_7_days as household_days_in_7,
        sum(case when is_day_observed then 1 else 0 end) over last_7_days as days_observed_in_7

    from days_counted

    window last_7_days as (
        partition by title_id
        order by day_since_release
        rows between 6 preceding and current row
    )

),

-- A title launched before the delivered nights has no observed day since release to show: the
-- warehouse cannot say how it started, so it gets no rows.
titles_observed as (

    select title_id
    from days_counted
    group by title_id
    having bool_or(is_day_observed)

),

staying_power as (

    select
        days_rolled.title_id,
        days_rolled.day_since_release,
        days_rolled.local_date,
        days_rolled.is_day_observed,
        days_rolled.households,
        days_rolled.view_sessions,
        days_rolled.completions,
        days_rolled.kids_completions,
        -- Only over 7 observed days since release: the first six days and any window with a
        -- date not yet delivered in every zone have none.
        case
            when days_rolled.days_observed_in_7 = 7 then cast(days_rolled.household_days_in_7 as bigint)
        end as households_rolling_7d

    from days_rolled
    semi join titles_observed
        on days_rolled.title_id = titles_observed.title_id

)

select * from staying_power
