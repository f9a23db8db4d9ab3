-- Argo CD health of a NetworkZone (platform.smartcity.io/v1alpha1), from its Accepted condition:
--   Progressing  until the operator has observed the current generation and written Accepted,
--                or while Accepted is Unknown
--   Degraded     Accepted is False
--   Healthy      Accepted is True (also with reason RefusedReferences: the zone is in use;
--                the services it refuses are Degraded themselves, with ZoneNotAllowed)
-- The message is the condition's. config/gitops/gitops_test.go runs it on sample statuses.
local hs = { status = "Progressing", message = "Waiting for the operator to reconcile the zone" }
if obj.status == nil then
  return hs
end
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end

for _, c in ipairs(obj.status.conditions or {}) do
  if c.type == "Accepted" then
    if c.status == "True" then
      hs.status = "Healthy"
    elseif c.status == "False" then
      hs.status = "Degraded"
    end
    if c.message ~= nil and c.message ~= "" then
      hs.message = "Accepted: " .. c.message
    else
      hs.message = "Accepted: " .. c.reason
    end
    return hs
  end
end
hs.message = "Waiting for the Accepted condition"
return hs
