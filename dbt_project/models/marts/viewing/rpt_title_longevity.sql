-- One row per title in rpt_title_staying_power (docs/metrics.md, "Staying power"): its peak,
-- how much of its first week it keeps in its fourth, how fast it fades, and the verdict.
with

staying_power as (

    select * from {{ ref('rpt_title_staying_power') }}

),

-- Week 1 is days 0-6 since release, week 4 days 21-27: household-days (a household viewing on
-- three days of a week counts three times).
title_weeks as (

    select
        title_id,
        count(*) filter (where is_day_observed) as days_observed,
        max(households) filter (where is_day_observed) as peak_households,
        sum(households) filter (where day_since_release between 0 and 6) as week1_household_days,
        sum(households) filter (where day_since_release between 21 and 27) as week4_household_days,
        count(*) filter (where day_since_release between 0 and 27 and is_day_observed) = 28
            as are_weeks_1_to_4_observed,
        max(households_rolling_7d) as peak_households_rolling_7d

    from staying_power

    group by title_id

),

-- The earliest day of each peak.
peaks as (

    select
        title_weeks.title_id,
        min(staying_power.day_since_release) filter (
            where staying_power.is_day_observed and staying_power.households = title_weeks.peak_households
        ) as peak_day,
        min(staying_power.day_since_release) filter (
            where staying_power.households_rolling_7d = title_weeks.peak_households_rolling_7d
        ) as peak_rolling_7d_day

    from title_weeks
    inner join staying_power
        on title_weeks.title_id = staying_power.title_id

    group by title_weeks.title_id

),

-- The first day after the 7-day peak whose rolling sum is below half of it.
halved as (

    select
        peaks.title_id,
        min(staying_power.day_since_release) as halved_day

    from peaks
    inner join title_weeks
        on peaks.title_id = title_weeks.title_id
    inner join staying_power
        on
            peaks.title_id = staying_power.title_id
            and staying_power.day_since_release > peaks.peak_rolling_7d_day
            and staying_power.households_rolling_7d < title_weeks.peak_households_rolling_7d / 2.0

    group by peaks.title_id

),

longevity as (

    select
        title_weeks.title_id,
        title_weeks.days_observed,
        title_weeks.days_observed = {{ var('rewatch__staying_power_days') }} + 1 as is_window_complete,
        peaks.peak_day,
        title_weeks.peak_households,
        peaks.peak_rolling_7d_day,
        title_weeks.peak_households_rolling_7d,
        case
            when title_weeks.are_weeks_1_to_4_observed
                then title_weeks.week4_household_days / nullif(title_weeks.week1_household_days, 0)
        end as week4_to_week1,
        halved.halved_day - peaks.peak_rolling_7d_day as half_life_days

    from title_weeks
    inner join peaks
        on title_weeks.title_id = peaks.title_id
    left join halved
        on title_weeks.title_id = halved.title_id

),

verdicts as (

    select
        *,
        week4_to_week1 >= {{ var('rewatch__unstoppable_week4_to_week1') }} as is_unstoppable

    from longevity

)

select * from verdicts
