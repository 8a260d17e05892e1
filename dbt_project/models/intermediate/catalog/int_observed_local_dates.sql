-- One row per local date the processed nights deliver in every time zone (docs/metrics.md,
-- "Honest windows"): the dates a window or a day since release can count as observed.
with

nights as (

    select * from {{ after_run('published_intermediate', 'int_nights_processed', ['export_date']) }}

),

-- A local date is delivered in every time zone (UTC-12 to UTC+14) once the nights of the UTC
-- dates before, on and after it are processed: its day runs from D-1 10:00 to D+1 12:00 UTC.
observed_dates as (

    select nights.export_date as local_date
    from nights
    semi join nights as day_before
        on nights.export_date - 1 = day_before.export_date
    semi join nights as day_after
        on nights.export_date + 1 = day_after.export_date

)

select * from observed_dates
