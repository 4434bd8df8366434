"""`ebami build`: a read-only planner (`plan_build`), the Packer variables it implies, and the
actions that bake, tag and publish, run by the plan/execute core (`ebami.core.plan`).

`ebami check` is `plan_build` plus a comparison: whatever decides the bake key lives in the
planner, never in the actions.
"""
