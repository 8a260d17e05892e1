with

titles as (

    select * from {{ ref('stg_exports__titles') }}

),

nights as (

    select * from {{ ref('int_nights_processed') }}

),

-- Each processed night carries a full catalog: the latest night that lists a title describes it.
latest_snapshots as (

    select
        titles.*,
        -- Where the content ends: the credits, or the runtime when the catalog has no credits.
        coalesce(titles.credits_start_seconds, titles.runtime_seconds) as content_end_seconds

    from titles
    inner join nights
        on titles.export_date = nights.export_date
    qualify row_number() over (partition by titles.title_id order by titles.export_date desc) = 1

)

select * from latest_snapshots
