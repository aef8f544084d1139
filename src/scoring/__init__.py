"""Batch scoring of the unified customer profile (entry point: src/profile.py), one job per module.

settings     tiers, content rules, churn bands and RFM cut points from the configs
inputs       the warehouse tables checked, their subscribers chunked, the feature window pinned
champions    the registered champions and the title labeller, loaded once by alias
job          one profile run's state and its wall-time bookkeeping
preference   content preference: population-smoothed rules fused with the content champion
chunk        every profile column of one chunk but RFM
rfm          the RFM columns of one chunk
passes       pass 1 (features, spilled) and pass 2 (scores, appended) over the chunks
output       the Parquet schema, the atomic write and the JSON sidecar
spark_passes both passes with Spark (engine=spark): features on PySpark, scores by mapInPandas
"""
